import { defineConfig } from "vitest/config";

export default defineConfig({
  // Real servers on 2 cores shared with the rest of CI: allow for a loaded machine.
  test: { testTimeout: 30_000 },
});
