import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const engine = (file: string) => ({
  "#crypto": fileURLToPath(new URL(`./src/crypto/${file}`, import.meta.url)),
});

// Every test runs twice: once on the node:crypto engine and once on the Web Crypto engine,
// so that both paths are held to the same behaviour.
export default defineConfig({
  test: {
    // Property tests and real servers share 2 cores with the rest of CI: allow for a loaded machine.
    testTimeout: 30_000,
    projects: [
      { extends: true, resolve: { alias: engine("node.ts") }, test: { name: "node:crypto" } },
      {
        extends: true,
        resolve: { alias: engine("web.ts") },
        // The dist tests pick engines through real package conditions; once is enough.
        test: { name: "web-crypto", exclude: ["**/node_modules/**", "src/exports.test.ts"] },
      },
    ],
  },
});
