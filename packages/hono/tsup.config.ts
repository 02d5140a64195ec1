import { definePackageBuild } from "../../tsup.package.js";

export default definePackageBuild({
  entry: { index: "src/index.ts", testing: "src/testing.ts" },
  // Runs on Node, Bun, Deno and Workers: nothing here may assume one of them.
  platform: "neutral",
});
