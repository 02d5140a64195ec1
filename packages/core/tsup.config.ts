import { defineConfig } from "tsup";

export default defineConfig({
  entry: {
    index: "src/index.ts",
    node: "src/node.ts",
    testing: "src/testing.ts",
    "crypto/node": "src/crypto/node.ts",
    "crypto/web": "src/crypto/web.ts",
  },
  format: ["esm", "cjs"],
  // One copy of each class across entry points, in CJS as in ESM, so `instanceof` holds.
  splitting: true,
  dts: {
    entry: { index: "src/index.ts", node: "src/node.ts", testing: "src/testing.ts" },
    // tsup sets baseUrl for its declaration build, which TypeScript 6 deprecates.
    compilerOptions: { ignoreDeprecations: "6.0" },
  },
  // Resolved per runtime by package.json "imports": node:crypto on Node, Web Crypto elsewhere.
  external: ["#crypto"],
  target: "es2022",
  platform: "neutral",
  sourcemap: true,
  clean: true,
});
