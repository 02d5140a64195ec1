import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    // tsc over every block, with the frameworks' types, on 2 cores shared with the rest of CI.
    hookTimeout: 300_000,
    testTimeout: 30_000,
  },
});
