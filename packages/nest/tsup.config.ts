import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts" },
  format: ["esm", "cjs"],
  dts: {
    // tsup sets baseUrl for its declaration build, which TypeScript 6 deprecates.
    compilerOptions: { ignoreDeprecations: "6.0" },
  },
  // Every injected dependency names its token with @Inject(), so the build needs no design-type
  // metadata (esbuild cannot emit it) and works the same in ESM and CJS.
  tsconfig: "tsconfig.build.json",
  platform: "node",
  target: "es2022",
  sourcemap: true,
  clean: true,
});
