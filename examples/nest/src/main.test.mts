import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import {
  describeExampleApp,
  handledEvents,
  startExample,
} from "@kallima/webhooks-conformance/example-app";
import * as testing from "@kallima/webhooks-nest/testing";
import { beforeAll, expect, it } from "vitest";

const exampleDir = resolve(import.meta.dirname, "..");
const require = createRequire(import.meta.url);

beforeAll(() => {
  // Compile as a Nest app ships: tsc to CommonJS, with decorator metadata.
  execFileSync(
    process.execPath,
    [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json"],
    {
      cwd: exampleDir,
      stdio: "inherit",
    },
  );
}, 60_000);

describeExampleApp({
  name: "nest",
  startedAs: "compiled to CommonJS and started with node",
  // The compiled CommonJS app (`node dist/main.js`) on a free port.
  start: (env) => startExample({ args: ["dist/main.js"], cwd: exampleDir, env }),
  secret: "whsec_exampleNestTestSecret0123456789abcde",
  rotatedSecret: "whsec_exampleNestRotatedSecret_0123456789a",
  events: testing,
  // A clean SIGTERM shutdown exits 0.
  exitCodeOnStop: 0,
  cases: ({ app, hooks, deliver }) => {
    it("is CommonJS that requires the adapter's CommonJS build", () => {
      const main = readFileSync(resolve(exampleDir, "dist/jobs.service.js"), "utf8");
      expect(main).toContain('require("@kallima/webhooks-nest")');
      expect(require.resolve("@kallima/webhooks-nest", { paths: [exampleDir] })).toMatch(
        /packages[\\/]nest[\\/]dist[\\/]index\.cjs$/,
      );
    });

    it("gives the decorated handler the delivery's { request, executionContext }", async () => {
      const event = testing.jobCompletedEvent();
      expect((await deliver(hooks(), event)).status).toBe(200);
      await expect
        .poll(app().stdout)
        .toContain(`job ${event.data.id} completed (POST /kallima-events)`);
    });

    it("guards its own controller: signed, tampered and stale deliveries", async () => {
      const guarded = `${hooks()}/guarded`;
      const event = testing.webhookTestEvent();
      expect(await deliver(guarded, event)).toEqual({ status: 200, body: { received: true } });
      const tampered = await deliver(guarded, testing.webhookTestEvent(), {
        tamper: (body) => body.replace("aaaa0001", "ffff0001"),
      });
      expect([tampered.status, tampered.body]).toEqual([
        401,
        { error: { code: "invalid_signature", message: expect.any(String) } },
      ]);
      const stale = await deliver(guarded, testing.jobCompletedEvent(), {
        timestamp: Math.floor(Date.now() / 1000) - 600,
      });
      expect(stale.status).toBe(401);
      expect(await handledEvents(guarded)).toEqual([{ id: event.id, type: "webhook.test" }]);
      expect((await handledEvents(hooks())).map((e) => e.id)).not.toContain(event.id);
    });
  },
});
