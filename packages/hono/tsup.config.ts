import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts" },
  format: ["esm", "cjs"],
  dts: {
    // tsup sets baseUrl for its declaration build, which TypeScript 6 deprecates.
    compilerOptions: { ignoreDeprecations: "6.0" },
  },
  // Runs on Node, Bun, Deno and Workers: nothing here may assume one of them.
  platform: "neutral",
  target: "es2022",
  sourcemap: true,
  clean: true,
});
