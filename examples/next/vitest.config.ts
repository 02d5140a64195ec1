import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Requests go to a real `next start`, which is slow to answer the first time on a busy machine.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
