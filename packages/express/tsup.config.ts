import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts" },
  format: ["esm", "cjs"],
  dts: {
    // tsup sets baseUrl for its declaration build, which TypeScript 6 deprecates.
    compilerOptions: { ignoreDeprecations: "6.0" },
  },
  platform: "node",
  target: "es2022",
  sourcemap: true,
  clean: true,
});
