import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describeExampleApp, startExample } from "@kallima/webhooks-conformance/example-app";
import * as testing from "@kallima/webhooks-koa/testing";
import { expect, it } from "vitest";

const exampleDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");

describeExampleApp({
  name: "koa",
  // `src/main.ts` as its own process on a free port, as `pnpm start` runs it.
  start: (env) => startExample({ args: ["--import", "tsx", "src/main.ts"], cwd: exampleDir, env }),
  secret: "whsec_exampleKoaTestSecret0123456789abcdef",
  rotatedSecret: "whsec_exampleKoaRotatedSecret_0123456789",
  events: testing,
  cases: ({ app }) => {
    it("parses JSON on its other routes", async () => {
      const echo = await fetch(`${app().url}/echo`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"id":7}',
      });
      expect(await echo.json()).toEqual({ parsed: { id: 7 } });
    });
  },
});
