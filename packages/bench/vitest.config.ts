import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // The smoke run starts servers and load generators: one file, no parallel workers.
    fileParallelism: false,
  },
});
