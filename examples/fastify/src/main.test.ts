import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  describeExampleApp,
  handledEvents,
  startExample,
} from "@kallima/webhooks-conformance/example-app";
import * as testing from "@kallima/webhooks-fastify/testing";
import { expect, it } from "vitest";

const exampleDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SECRET = "whsec_exampleFastifyTestSecret0123456789ab";

describeExampleApp({
  name: "fastify",
  // `src/main.ts` as its own process on a free port, as `pnpm start` runs it.
  start: (env) => startExample({ args: ["--import", "tsx", "src/main.ts"], cwd: exampleDir, env }),
  secret: SECRET,
  rotatedSecret: "whsec_exampleFastifyRotatedSecret_0123456789",
  events: testing,
  otherMethods: "framework",
  cases: ({ app, hooks }) => {
    it("leaves other methods to Fastify (404), lists on GET, and parses JSON on its other routes", async () => {
      const response = await fetch(hooks(), { method: "PUT", body: "{}" });
      expect(response.status).toBe(404);
      expect(Array.isArray(await handledEvents(hooks()))).toBe(true);
      const echo = await fetch(`${app().url}/echo`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"id":7}',
      });
      expect(await echo.json()).toEqual({ parsed: { id: 7 } });
    });

    it("takes a delivery sent as text/plain: the plugin's route parses every content type as bytes", async () => {
      const event = testing.jobCompletedEvent();
      const signed = await testing.signPayload({ secret: SECRET, payload: event });
      const response = await fetch(hooks(), {
        method: "POST",
        headers: { ...signed.headers, "content-type": "text/plain" },
        body: signed.body,
      });
      expect(await response.json()).toEqual({ received: true, outcome: "handled" });
    });
  },
});
