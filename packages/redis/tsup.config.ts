import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts" },
  format: ["esm", "cjs"],
  dts: {
    // tsup sets baseUrl for its declaration build, which TypeScript 6 deprecates.
    compilerOptions: { ignoreDeprecations: "6.0" },
  },
  target: "es2022",
  platform: "node",
  sourcemap: true,
  clean: true,
  // Keep "node:crypto" as written: Deno and some bundlers need the prefix.
  removeNodeProtocol: false,
});
