import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", bin: "src/bin.ts" },
  format: ["esm", "cjs"],
  dts: {
    entry: { index: "src/index.ts" },
    // tsup sets baseUrl for its declaration build, which TypeScript 6 deprecates.
    compilerOptions: { ignoreDeprecations: "6.0" },
  },
  platform: "node",
  target: "node20",
  sourcemap: true,
  clean: true,
  // import.meta.url (used to read the version) also works in the CJS build.
  shims: true,
});
