import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // The demo starts real example apps (and may build them): minutes, not milliseconds.
    testTimeout: 300_000,
    hookTimeout: 60_000,
  },
});
