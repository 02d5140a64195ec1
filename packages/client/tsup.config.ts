import { definePackageBuild } from "../../tsup.package.js";

export default definePackageBuild({
  entry: { index: "src/index.ts" },
  // Runs on Node, Bun, Deno and Workers: only fetch, AbortSignal, URL and timers.
  platform: "neutral",
});
