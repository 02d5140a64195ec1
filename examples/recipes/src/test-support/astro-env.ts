// `astro:env/server`'s getSecret as @astrojs/node provides it: the process's environment at the
// time of the call (vitest.config.ts aliases the module here).
export const getSecret = (key: string): string | undefined => process.env[key];
