// What `svelte-kit sync` writes into an app's .svelte-kit/ambient.d.ts for `$env/dynamic/private`
// (the variables only known at run time), which this package has no app to generate.
declare module "$env/dynamic/private" {
  export const env: {
    [key: `PUBLIC_${string}`]: undefined;
    [key: string]: string | undefined;
  };
}
