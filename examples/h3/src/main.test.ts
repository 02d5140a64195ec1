import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
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
} from "@kallima/webhooks-h3/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const exampleDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SECRET = "whsec_exampleH3TestSecret_0123456789abcdef";
const DEMO_SECRET = "whsec_kallimaDemoSecret_notForProduction_01";
/** The secret a rotation issued: the app is started holding it beside the old one. */
const ROTATED_SECRET = "whsec_exampleH3RotatedSecret_0123456789";

/** Starts `src/main.ts` as its own process on a free port and waits for the ready line. */
const start = (env: Record<string, string | undefined>) =>
  startExample({ args: ["--import", "tsx", "src/main.ts"], cwd: exampleDir, env });

const deliver = (
  url: string,
  payload: object | string,
  options: { secret?: string; timestamp?: number; tamper?: (body: string) => string } = {},
) => deliverSigned(`${url}/kallima-events`, payload, { secret: SECRET, ...options });

const ran = (url: string) => handledEvents(`${url}/kallima-events`);

describe("examples/h3, started as a process", () => {
  let app: RunningExample;
  beforeAll(async () => {
    // During a rotation: the new secret beside the old one, comma-separated.
    app = await start({ KALLIMA_WEBHOOK_SECRET: `${ROTATED_SECRET}, ${SECRET}` });
  }, 30_000);
  afterAll(() => app?.stop());

  it("runs the handler for a signed delivery and lists it", async () => {
    const event = jobCompletedEvent();
    const response = await deliver(app.url, event);
    expect(response).toEqual({ status: 200, body: { received: true, outcome: "handled" } });
    expect(await ran(app.url)).toContainEqual({ id: event.id, type: "job.completed" });
  });

  it("rejects a tampered delivery with 401 and runs nothing", async () => {
    const event = jobCompletedEvent();
    const response = await deliver(app.url, event, {
      tamper: (body) => body.replace('"status":"completed"', '"status":"canceled"'),
    });
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ error: { code: "invalid_signature" } });
    expect((await ran(app.url)).map((e) => e.id)).not.toContain(event.id);
  });

  it("rejects a stale delivery with 401 timestamp_too_old", async () => {
    const event = jobFailedEvent();
    const response = await deliver(app.url, event, {
      timestamp: Math.floor(Date.now() / 1000) - 600,
    });
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ error: { code: "timestamp_too_old" } });
    expect((await ran(app.url)).map((e) => e.id)).not.toContain(event.id);
  });

  it("accepts a delivery signed with either of its comma-separated secrets", async () => {
    for (const secret of [ROTATED_SECRET, SECRET]) {
      const event = jobCompletedEvent();
      expect((await deliver(app.url, event, { secret })).status).toBe(200);
      expect(await ran(app.url)).toContainEqual({ id: event.id, type: "job.completed" });
    }
  });

  it("rejects a delivery signed with another secret", async () => {
    const response = await deliver(app.url, jobCompletedEvent(), { secret: DEMO_SECRET });
    expect(response.status).toBe(401);
  });

  it("records job.failed and webhook.test, acknowledges an unknown type without recording it", async () => {
    const failed = jobFailedEvent();
    const test = webhookTestEvent();
    const unknown = createEvent("humanization.completed", { id: "hum_1" });
    expect((await deliver(app.url, failed)).status).toBe(200);
    expect((await deliver(app.url, unknown)).body).toEqual({
      received: true,
      outcome: "unhandled",
    });
    expect((await deliver(app.url, test)).status).toBe(200);
    const ids = (await ran(app.url)).map((e) => e.id);
    expect(ids.slice(-2)).toEqual([failed.id, test.id]);
    expect(ids).not.toContain(unknown.id);
  });

  it("answers another method 405 with Allow: POST, and still lists on GET", async () => {
    const response = await fetch(`${app.url}/kallima-events`, { method: "PUT", body: "{}" });
    expect([response.status, response.headers.get("allow")]).toEqual([405, "POST"]);
    expect(await response.json()).toMatchObject({ error: { code: "method_not_allowed" } });
    expect(Array.isArray(await ran(app.url))).toBe(true);
  });

  it("runs the handler once for a repeated delivery", async () => {
    const event = jobCompletedEvent();
    expect((await deliver(app.url, event)).status).toBe(200);
    expect(await deliver(app.url, event)).toEqual({
      status: 200,
      body: { received: true, outcome: "duplicate" },
    });
    expect((await ran(app.url)).filter((e) => e.id === event.id)).toHaveLength(1);
  });
});

describe("examples/h3 without KALLIMA_WEBHOOK_SECRET", () => {
  it("warns on stderr and accepts deliveries signed with the demo secret", async () => {
    const app = await start({ KALLIMA_WEBHOOK_SECRET: undefined });
    try {
      expect((await deliver(app.url, webhookTestEvent(), { secret: DEMO_SECRET })).status).toBe(
        200,
      );
      // stderr is a separate pipe from the ready line on stdout: wait for it rather than race it.
      await expect.poll(app.stderr).toContain("KALLIMA_WEBHOOK_SECRET is not set");
    } finally {
      await app.stop();
    }
  }, 30_000);
});
