import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Real servers, real example apps and a real browser share 2 cores with the rest of CI.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
