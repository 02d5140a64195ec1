import { definePackageBuild } from "../../tsup.package.js";

export default definePackageBuild({
  entry: { index: "src/index.ts", engine: "src/engine.ts" },
  platform: "node",
  removeNodeProtocol: false,
});
