import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const testSupport = (file: string) =>
  fileURLToPath(new URL(`./src/test-support/${file}`, import.meta.url));

export default defineConfig({
  resolve: {
    // The frameworks' virtual modules, as their Node adapters implement them (process.env).
    alias: {
      "$env/dynamic/private": testSupport("sveltekit-env.ts"),
      "astro:env/server": testSupport("astro-env.ts"),
    },
  },
  test: {
    include: ["src/**/*.test.ts"],
  },
});
