import { definePackageBuild } from "../../tsup.package.js";

export default definePackageBuild({
  entry: { index: "src/index.ts", bin: "src/bin.ts" },
  dts: { entry: { index: "src/index.ts" } },
  platform: "node",
  target: "node20",
  // import.meta.url (used to read the version) also works in the CJS build.
  shims: true,
});
