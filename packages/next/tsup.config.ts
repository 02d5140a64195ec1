import { defineConfig } from "tsup";

export default defineConfig({
  // Two entries so that the Edge bundle of an App Router route never sees the Node-only Pages code.
  entry: { index: "src/index.ts", pages: "src/pages.ts" },
  format: ["esm", "cjs"],
  dts: {
    // tsup sets baseUrl for its declaration build, which TypeScript 6 deprecates.
    compilerOptions: { ignoreDeprecations: "6.0" },
  },
  // The App Router entry runs on the Edge runtime too: nothing here may assume Node.
  platform: "neutral",
  target: "es2022",
  sourcemap: true,
  clean: true,
});
