import { definePackageBuild } from "../../tsup.package.js";

export default definePackageBuild({
  entry: { index: "src/index.ts" },
  platform: "node",
  // Keep "node:crypto" as written: Deno and some bundlers need the prefix.
  removeNodeProtocol: false,
});
