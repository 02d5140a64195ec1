import { definePackageBuild } from "../../tsup.package.js";

export default definePackageBuild({
  // The Pages entry apart, so that the Edge bundle of an App Router route never sees Node-only code.
  entry: { index: "src/index.ts", pages: "src/pages.ts", testing: "src/testing.ts" },
  // The App Router entry runs on the Edge runtime too: nothing here may assume Node.
  platform: "neutral",
});
