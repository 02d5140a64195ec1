import { definePackageBuild } from "../../tsup.package.js";

export default definePackageBuild({
  // Two entries so that the Edge bundle of an App Router route never sees the Node-only Pages code.
  entry: { index: "src/index.ts", pages: "src/pages.ts" },
  // The App Router entry runs on the Edge runtime too: nothing here may assume Node.
  platform: "neutral",
});
