import { definePackageBuild } from "../../tsup.package.js";

export default definePackageBuild({
  entry: {
    index: "src/index.ts",
    node: "src/node.ts",
    adapter: "src/adapter.ts",
    testing: "src/testing.ts",
    otel: "src/otel.ts",
    queue: "src/queue.ts",
    "crypto/node": "src/crypto/node.ts",
    "crypto/web": "src/crypto/web.ts",
  },
  // One copy of each class across entry points, in CJS as in ESM, so `instanceof` holds.
  splitting: true,
  dts: {
    entry: {
      index: "src/index.ts",
      node: "src/node.ts",
      adapter: "src/adapter.ts",
      testing: "src/testing.ts",
      otel: "src/otel.ts",
      queue: "src/queue.ts",
    },
  },
  // Resolved per runtime by package.json "imports": node:crypto on Node, Web Crypto elsewhere.
  external: ["#crypto"],
  platform: "neutral",
});
