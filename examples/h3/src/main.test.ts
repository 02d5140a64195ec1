import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describeExampleApp, startExample } from "@kallima/webhooks-conformance/example-app";
import * as testing from "@kallima/webhooks-h3/testing";

const exampleDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");

describeExampleApp({
  name: "h3",
  // `src/main.ts` as its own process on a free port, as `pnpm start` runs it.
  start: (env) => startExample({ args: ["--import", "tsx", "src/main.ts"], cwd: exampleDir, env }),
  secret: "whsec_exampleH3TestSecret_0123456789abcdef",
  rotatedSecret: "whsec_exampleH3RotatedSecret_0123456789",
  events: testing,
});
