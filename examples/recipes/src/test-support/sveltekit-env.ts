// `$env/dynamic/private` as @sveltejs/adapter-node provides it: the process's environment, read
// when accessed (vitest.config.ts aliases the module here).
export const env: Record<string, string | undefined> = process.env;
