import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describeExampleApp, startExample } from "@kallima/webhooks-conformance/example-app";
import * as testing from "@kallima/webhooks-lambda/testing";

const exampleDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");

describeExampleApp({
  name: "lambda",
  // `src/main.ts` as its own process on a free port, as `pnpm start` runs it.
  start: (env) => startExample({ args: ["--import", "tsx", "src/main.ts"], cwd: exampleDir, env }),
  secret: "whsec_exampleLambdaTestSecret_0123456789abcd",
  rotatedSecret: "whsec_exampleLambdaRotatedSecret_0123456789",
  events: testing,
});
