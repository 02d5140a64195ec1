import { definePackageBuild } from "../../tsup.package.js";

export default definePackageBuild({
  entry: { index: "src/index.ts", testing: "src/testing.ts" },
  // h3 1.x always hands over Node's request (a mock of it off Node); the core's Node readers
  // serve both majors on Node.
  platform: "node",
});
