import { definePackageBuild } from "../../tsup.package.js";

export default definePackageBuild({
  entry: { index: "src/index.ts", testing: "src/testing.ts" },
  platform: "node",
});
