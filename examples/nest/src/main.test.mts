import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import {
  deliverSigned,
  handledEvents,
  type RunningExample,
  startExample,
} from "@kallima/webhooks-conformance/example-app";
import {
  createEvent,
  jobCompletedEvent,
  jobFailedEvent,
  webhookTestEvent,
} from "@kallima/webhooks-nest/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const exampleDir = resolve(import.meta.dirname, "..");
const require = createRequire(import.meta.url);
const SECRET = "whsec_exampleNestTestSecret0123456789abcde";
const DEMO_SECRET = "whsec_kallimaDemoSecret_notForProduction_01";
/** The secret a rotation issued: the app is started holding it beside the old one. */
const ROTATED_SECRET = "whsec_exampleNestRotatedSecret_0123456789a";

/** Starts the compiled CommonJS app (`node dist/main.js`) on a free port; waits for the ready line. */
const start = (env: Record<string, string | undefined>) =>
  startExample({ args: ["dist/main.js"], cwd: exampleDir, env });

const deliver = (
  url: string,
  payload: object | string,
  options: { secret?: string; timestamp?: number; tamper?: (body: string) => string } = {},
) => deliverSigned(url, payload, { secret: SECRET, ...options });

const ran = handledEvents;

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

describe("examples/nest, compiled to CommonJS and started with node", () => {
  let app: RunningExample;
  let hooks: string;
  let guarded: string;
  beforeAll(async () => {
    // During a rotation: the new secret beside the old one, comma-separated.
    app = await start({ KALLIMA_WEBHOOK_SECRET: `${ROTATED_SECRET},${SECRET}` });
    hooks = `${app.url}/kallima-events`;
    guarded = `${app.url}/kallima-events/guarded`;
  }, 30_000);
  // A clean SIGTERM shutdown exits 0.
  afterAll(async () => expect(await app?.stop()).toBe(0));

  it("is CommonJS that requires the adapter's CommonJS build", () => {
    const main = readFileSync(resolve(exampleDir, "dist/jobs.service.js"), "utf8");
    expect(main).toContain('require("@kallima/webhooks-nest")');
    expect(require.resolve("@kallima/webhooks-nest", { paths: [exampleDir] })).toMatch(
      /packages[\\/]nest[\\/]dist[\\/]index\.cjs$/,
    );
  });

  it("runs the decorated handler for a signed delivery and lists it", async () => {
    const event = jobCompletedEvent();
    expect(await deliver(hooks, event)).toEqual({
      status: 200,
      body: { received: true, outcome: "handled" },
    });
    expect(await ran(hooks)).toContainEqual({ id: event.id, type: "job.completed" });
    // The handler's second argument is the delivery's { request, executionContext }.
    expect(app.stdout()).toContain(`job ${event.data.id} completed (POST /kallima-events)`);
  });

  it("rejects a tampered delivery with 401 and runs nothing", async () => {
    const event = jobCompletedEvent();
    const response = await deliver(hooks, event, {
      tamper: (body) => body.replace('"status":"completed"', '"status":"canceled"'),
    });
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ error: { code: "invalid_signature" } });
    expect((await ran(hooks)).map((e) => e.id)).not.toContain(event.id);
  });

  it("rejects a stale delivery with 401 timestamp_too_old", async () => {
    const event = jobFailedEvent();
    const response = await deliver(hooks, event, {
      timestamp: Math.floor(Date.now() / 1000) - 600,
    });
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ error: { code: "timestamp_too_old" } });
    expect((await ran(hooks)).map((e) => e.id)).not.toContain(event.id);
  });

  it("accepts a delivery signed with either of its comma-separated secrets", async () => {
    for (const secret of [ROTATED_SECRET, SECRET]) {
      const event = jobCompletedEvent();
      expect((await deliver(hooks, event, { secret })).status).toBe(200);
      expect(await ran(hooks)).toContainEqual({ id: event.id, type: "job.completed" });
    }
  });

  it("rejects a delivery signed with another secret", async () => {
    expect((await deliver(hooks, jobCompletedEvent(), { secret: DEMO_SECRET })).status).toBe(401);
  });

  it("records job.failed and webhook.test, acknowledges an unknown type without recording it", async () => {
    const failed = jobFailedEvent();
    const test = webhookTestEvent();
    const unknown = createEvent("humanization.completed", { id: "hum_1" });
    expect((await deliver(hooks, failed)).status).toBe(200);
    expect((await deliver(hooks, unknown)).body).toEqual({ received: true, outcome: "unhandled" });
    expect((await deliver(hooks, test)).status).toBe(200);
    const ids = (await ran(hooks)).map((e) => e.id);
    expect(ids.slice(-2)).toEqual([failed.id, test.id]);
    expect(ids).not.toContain(unknown.id);
  });

  it("answers another method than POST with 405, and GET with the list", async () => {
    const put = await fetch(hooks, { method: "PUT", body: "{}" });
    expect([put.status, put.headers.get("allow")]).toEqual([405, "POST"]);
    // GET /kallima-events is the app's own list, registered before the module's route.
    expect(Array.isArray(await ran(hooks))).toBe(true);
  });

  it("runs the handler once for a repeated delivery", async () => {
    const event = jobCompletedEvent();
    expect((await deliver(hooks, event)).status).toBe(200);
    expect(await deliver(hooks, event)).toEqual({
      status: 200,
      body: { received: true, outcome: "duplicate" },
    });
    expect((await ran(hooks)).filter((e) => e.id === event.id)).toHaveLength(1);
  });

  it("guards its own controller: signed, tampered and stale deliveries", async () => {
    const event = webhookTestEvent();
    expect(await deliver(guarded, event)).toEqual({ status: 200, body: { received: true } });
    const tampered = await deliver(guarded, webhookTestEvent(), {
      tamper: (body) => body.replace("aaaa0001", "ffff0001"),
    });
    expect([tampered.status, tampered.body]).toEqual([
      401,
      { error: { code: "invalid_signature", message: expect.any(String) } },
    ]);
    const stale = await deliver(guarded, jobCompletedEvent(), {
      timestamp: Math.floor(Date.now() / 1000) - 600,
    });
    expect(stale.status).toBe(401);
    expect(await ran(guarded)).toEqual([{ id: event.id, type: "webhook.test" }]);
    expect((await ran(hooks)).map((e) => e.id)).not.toContain(event.id);
  });
});

describe("examples/nest without KALLIMA_WEBHOOK_SECRET", () => {
  it("warns on stderr and accepts deliveries signed with the demo secret", async () => {
    const app = await start({ KALLIMA_WEBHOOK_SECRET: undefined });
    try {
      const response = await deliver(`${app.url}/kallima-events`, webhookTestEvent(), {
        secret: DEMO_SECRET,
      });
      expect(response.status).toBe(200);
      await expect.poll(app.stderr).toContain("KALLIMA_WEBHOOK_SECRET is not set");
    } finally {
      expect(await app.stop()).toBe(0);
    }
  }, 30_000);
});
