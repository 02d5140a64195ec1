import { definePackageBuild } from "../../tsup.package.js";

export default definePackageBuild({
  entry: { index: "src/index.ts", testing: "src/testing.ts" },
  // Every injected dependency names its token with @Inject(), so the build needs no design-type
  // metadata (esbuild cannot emit it) and works the same in ESM and CJS.
  tsconfig: "tsconfig.build.json",
  platform: "node",
});
