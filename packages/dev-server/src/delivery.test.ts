import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { openConnection } from "@kallima/webhooks-sqlite/engine";
import { afterEach, describe, expect, it } from "vitest";
import {
  type DeliveryAttempt,
  type DevServer,
  type DevServerOptions,
  startDevServer,
  type WebhookDeliveryObject,
  type WebhookObjectWithSecret,
} from "./index.js";
import {
  call,
  type ReceivedDelivery,
  startReceiver,
  type TestReceiver,
  waitFor,
} from "./test-support.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function devServer(options: DevServerOptions = {}): Promise<DevServer> {
  const dev = await startDevServer({ port: 0, retryDelaysMs: [20, 40, 80], ...options });
  cleanups.push(() => dev.close());
  return dev;
}

async function receiverAnswering(
  answer?: (delivery: ReceivedDelivery, index: number) => number | Promise<number>,
): Promise<TestReceiver> {
  const receiver = await startReceiver(answer);
  cleanups.push(() => receiver.close());
  return receiver;
}

async function register(
  dev: DevServer,
  receiver: TestReceiver,
  body: Record<string, unknown> = {},
): Promise<WebhookObjectWithSecret> {
  const created = await call(dev.url, "POST", "/v1/webhooks", { url: receiver.url, ...body });
  expect(created.status).toBe(201);
  const webhook = created.body as WebhookObjectWithSecret;
  receiver.secrets = [webhook.secret];
  return webhook;
}

async function trigger(dev: DevServer, body: Record<string, unknown>) {
  const answer = await call(dev.url, "POST", "/v1/dev/events", body);
  expect(answer.status).toBe(201);
  return answer.body as {
    events: { id: string; type: string; created_at: string; data: Record<string, unknown> }[];
    deliveries: WebhookDeliveryObject[];
  };
}

async function attempts(dev: DevServer, deliveryId: string): Promise<DeliveryAttempt[]> {
  return (await call(dev.url, "GET", `/v1/dev/deliveries/${deliveryId}/attempts`))
    .body as DeliveryAttempt[];
}

async function delivery(dev: DevServer, id: string): Promise<WebhookDeliveryObject> {
  return (await call(dev.url, "GET", `/v1/webhook_deliveries/${id}`)).body as WebhookDeliveryObject;
}

describe("deliveries", () => {
  it("retries non-2xx answers on the schedule and records every attempt", async () => {
    const dev = await devServer();
    const receiver = await receiverAnswering((_delivery, index) => (index < 2 ? 503 : 200));
    const webhook = await register(dev, receiver);
    const { deliveries } = await trigger(dev, { type: "job.completed" });
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({
      webhook_id: webhook.id,
      response_status: 503,
      attempts: 1,
    });
    expect(deliveries[0]!.delivered_at).toBeNull();
    await waitFor(
      async () => (await delivery(dev, deliveries[0]!.id)).delivered_at !== null,
      "success",
    );
    const done = await delivery(dev, deliveries[0]!.id);
    expect(done).toMatchObject({ response_status: 200, attempts: 3 });
    const log = await attempts(dev, done.id);
    expect(
      log.map((attempt) => [attempt.number, attempt.response_status, attempt.trigger]),
    ).toEqual([
      [1, 503, "initial"],
      [2, 503, "scheduled_retry"],
      [3, 200, "scheduled_retry"],
    ]);
    for (const attempt of log) expect(attempt.latency_ms).toBeGreaterThanOrEqual(0);
    // Every attempt carried the same event, each one signed afresh and valid.
    expect(
      new Set(receiver.received.map((r) => (r.verdict.ok ? r.verdict.id : r.verdict.code))),
    ).toEqual(new Set([done.event_id]));
  });

  it("counts no answer within the timeout as a failed attempt, and retries it", async () => {
    const dev = await devServer({ deliveryTimeoutMs: 150, retryDelaysMs: [10] });
    const receiver = await receiverAnswering(async (_delivery, index) => {
      if (index === 0) await sleep(1_000);
      return 204;
    });
    await register(dev, receiver);
    const { deliveries } = await trigger(dev, { type: "job.failed" });
    expect(deliveries[0]).toMatchObject({ response_status: null, attempts: 1 });
    await waitFor(async () => (await delivery(dev, deliveries[0]!.id)).attempts === 2, "the retry");
    const log = await attempts(dev, deliveries[0]!.id);
    expect(log[0]).toMatchObject({ response_status: null, error: "timeout" });
    expect(log[0]!.latency_ms).toBeGreaterThanOrEqual(140);
    expect(log[0]!.latency_ms).toBeLessThan(1_000);
    expect(log[1]).toMatchObject({ response_status: 204, error: null });
  });

  it("gives up after the schedule; a manual retry delivers it", async () => {
    const dev = await devServer({ retryDelaysMs: [10] });
    let up = false;
    const receiver = await receiverAnswering(() => (up ? 200 : 500));
    await register(dev, receiver);
    const { deliveries } = await trigger(dev, { type: "job.completed" });
    const id = deliveries[0]!.id;
    await waitFor(async () => (await attempts(dev, id)).length === 2, "the last scheduled retry");
    await sleep(100);
    expect((await delivery(dev, id)).attempts).toBe(2);
    up = true;
    const retried = await call(dev.url, "POST", `/v1/webhook_deliveries/${id}/retry`);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ id, response_status: 200, attempts: 3 });
    expect((await attempts(dev, id)).at(-1)!.trigger).toBe("manual_retry");
  });

  it("reports a refused connection as no answer", async () => {
    const dev = await devServer({ retryDelaysMs: [] });
    const receiver = await receiverAnswering();
    await register(dev, receiver);
    await receiver.close();
    const { deliveries } = await trigger(dev, { type: "job.completed" });
    const log = await attempts(dev, deliveries[0]!.id);
    expect(log[0]).toMatchObject({ response_status: null, error: "ECONNREFUSED" });
  });

  it("reports why fetch refused to connect (a port it never uses)", async () => {
    const dev = await devServer({ retryDelaysMs: [] });
    await call(dev.url, "POST", "/v1/webhooks", { url: "http://127.0.0.1:9/kallima-events" });
    const { deliveries } = await trigger(dev, { type: "job.completed" });
    expect((await attempts(dev, deliveries[0]!.id))[0]).toMatchObject({
      response_status: null,
      error: "bad port",
    });
  });

  it("sends only the subscribed types, to enabled endpoints", async () => {
    const dev = await devServer();
    const failedOnly = await receiverAnswering();
    const everything = await receiverAnswering();
    const disabled = await receiverAnswering();
    await register(dev, failedOnly, { events: ["job.failed"] });
    await register(dev, everything);
    await register(dev, disabled, { enabled: false });
    await trigger(dev, { type: "job.completed" });
    await trigger(dev, { type: "job.failed" });
    await trigger(dev, { type: "humanization.completed" });
    expect(failedOnly.received.map((r) => r.verdict.ok && r.verdict.type)).toEqual(["job.failed"]);
    expect(everything.received.map((r) => r.verdict.ok && r.verdict.type)).toEqual([
      "job.completed",
      "job.failed",
      "humanization.completed",
    ]);
    expect(disabled.received).toEqual([]);
  });

  it("holds a retry while the endpoint is disabled and resumes it when enabled", async () => {
    const dev = await devServer({ retryDelaysMs: [150] });
    const receiver = await receiverAnswering((_delivery, index) => (index === 0 ? 500 : 200));
    const webhook = await register(dev, receiver);
    const { deliveries } = await trigger(dev, { type: "job.completed" });
    await call(dev.url, "PATCH", `/v1/webhooks/${webhook.id}`, { enabled: false });
    await sleep(400);
    expect(receiver.received).toHaveLength(1);
    await call(dev.url, "PATCH", `/v1/webhooks/${webhook.id}`, { enabled: true });
    await waitFor(
      async () => (await delivery(dev, deliveries[0]!.id)).delivered_at !== null,
      "resume",
    );
    expect(receiver.received).toHaveLength(2);
  });

  it("signs with the new secret from the moment of a rotation", async () => {
    const dev = await devServer({ retryDelaysMs: [30, 30, 30, 30, 30] });
    const receiver = await receiverAnswering();
    const webhook = await register(dev, receiver);
    const oldSecret = webhook.secret;
    const rotated = (await call(dev.url, "PATCH", `/v1/webhooks/${webhook.id}?rotate_secret=true`))
      .body as WebhookObjectWithSecret;
    // The receiver still holds only the old secret: refused, and retried.
    const { deliveries } = await trigger(dev, { type: "job.completed" });
    expect(deliveries[0]!.response_status).toBe(401);
    expect(receiver.received[0]!.verdict).toEqual({ ok: false, code: "invalid_signature" });
    receiver.secrets = [oldSecret, rotated.secret];
    await waitFor(
      async () => (await delivery(dev, deliveries[0]!.id)).delivered_at !== null,
      "retry",
    );
    // Once the old one is dropped, deliveries still verify: they were never signed with it.
    receiver.secrets = [rotated.secret];
    const after = await trigger(dev, { type: "job.completed" });
    expect(after.deliveries[0]!.response_status).toBe(200);
  });

  it("signs in the endpoint's header format, or the trigger's", async () => {
    const dev = await devServer();
    const receiver = await receiverAnswering();
    await register(dev, receiver, { signature_format: "kallima-signature" });
    await trigger(dev, { type: "job.completed" });
    await trigger(dev, { type: "job.completed", signature_format: "x-headers" });
    const [first, second] = receiver.received;
    expect(first!.headers["kallima-signature"]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(first!.headers["x-kallima-signature"]).toBeUndefined();
    expect(second!.headers["x-kallima-signature"]).toMatch(/^[0-9a-f]{64}$/);
    expect(second!.headers["x-kallima-timestamp"]).toMatch(/^\d+$/);
    expect([first!.verdict.ok, second!.verdict.ok]).toEqual([true, true]);
  });

  it("builds events from the core's fixtures, data merged at every depth, then set paths", async () => {
    const dev = await devServer();
    const receiver = await receiverAnswering();
    await register(dev, receiver);
    const { events } = await trigger(dev, {
      type: "job.failed",
      data: { error: { code: "oom" } },
      set: { "data.error.message": "out of memory", "data.attempt": "3", id: "evt_fixed_1" },
    });
    expect(events[0]).toMatchObject({
      id: "evt_fixed_1",
      type: "job.failed",
      data: {
        id: expect.any(String),
        status: "failed",
        job_type: "structure",
        error: { code: "oom", message: "out of memory" },
        attempt: 3,
      },
    });
    const sent = JSON.parse(receiver.received[0]!.body);
    expect(sent).toEqual({
      id: "evt_fixed_1",
      type: "job.failed",
      api_version: "2026-04-23",
      created_at: events[0]!.created_at,
      data: events[0]!.data,
    });
  });
});

describe("fault injection", () => {
  it("duplicates in sequence: the same event id, one delivery after another", async () => {
    const dev = await devServer();
    const receiver = await receiverAnswering();
    await register(dev, receiver);
    const { events, deliveries } = await trigger(dev, {
      type: "job.completed",
      faults: { duplicates: 3 },
    });
    expect(deliveries).toHaveLength(3);
    expect(new Set(deliveries.map((d) => d.event_id))).toEqual(new Set([events[0]!.id]));
    expect(new Set(deliveries.map((d) => d.id)).size).toBe(3);
    expect(receiver.received.map((r) => r.verdict.ok && r.verdict.id)).toEqual(
      Array(3).fill(events[0]!.id),
    );
  });

  it("duplicates concurrently: all in flight at once", async () => {
    const dev = await devServer();
    let inFlight = 0;
    let most = 0;
    const receiver = await receiverAnswering(async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await sleep(150);
      inFlight -= 1;
      return 200;
    });
    await register(dev, receiver);
    await trigger(dev, { type: "job.completed", faults: { duplicates: 4, concurrent: true } });
    expect(receiver.received).toHaveLength(4);
    expect(most).toBe(4);
  });

  it("out of order: a batch arrives newest first, its created_at tells the true order", async () => {
    const dev = await devServer();
    const receiver = await receiverAnswering();
    await register(dev, receiver);
    const { events } = await trigger(dev, {
      events: [{ type: "job.failed" }, { type: "job.completed" }],
      faults: { out_of_order: true },
    });
    const arrived = receiver.received.map((r) => JSON.parse(r.body));
    expect(arrived.map((event) => event.id)).toEqual([events[1]!.id, events[0]!.id]);
    expect(Date.parse(arrived[0].created_at)).toBeGreaterThan(Date.parse(arrived[1].created_at));
  });

  it("a delay before the first attempt", async () => {
    const dev = await devServer();
    const receiver = await receiverAnswering();
    await register(dev, receiver);
    const started = Date.now();
    await trigger(dev, { type: "job.completed", faults: { delay_ms: 300 } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(receiver.received).toHaveLength(1);
  });

  it.each([
    ["stale_timestamp", "timestamp_too_old"],
    ["tampered_body", "invalid_signature"],
    ["wrong_secret", "invalid_signature"],
  ])(
    "%s is refused by a correct receiver (%s) and not retried on schedule",
    async (fault, code) => {
      const dev = await devServer({ retryDelaysMs: [10, 10] });
      const receiver = await receiverAnswering();
      await register(dev, receiver);
      const { deliveries } = await trigger(dev, {
        type: "job.completed",
        faults: { [fault]: true },
      });
      expect(deliveries[0]!.response_status).toBe(401);
      expect(receiver.received[0]!.verdict).toEqual({ ok: false, code });
      await sleep(100);
      expect(receiver.received).toHaveLength(1);
      const log = await attempts(dev, deliveries[0]!.id);
      expect(log).toEqual([expect.objectContaining({ fault, response_status: 401 })]);
      // A manual retry sends what Kallima would: properly signed.
      const retried = await call(
        dev.url,
        "POST",
        `/v1/webhook_deliveries/${deliveries[0]!.id}/retry`,
      );
      expect(retried.body).toMatchObject({ response_status: 200, attempts: 2 });
    },
  );

  it("refuses two faults at once", async () => {
    const dev = await devServer();
    const answer = await call(dev.url, "POST", "/v1/dev/events", {
      type: "job.completed",
      faults: { stale_timestamp: true, wrong_secret: true },
    });
    expect(answer).toMatchObject({ status: 422, body: { code: "validation_error" } });
  });
});

describe("persistence", () => {
  it("saves a retry for the next start when it stops during an attempt", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kallima-dev-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const stateFile = join(dir, "state.db");
    let slow = true;
    const receiver = await receiverAnswering(async () => {
      if (slow) await sleep(300);
      return slow ? 503 : 200;
    });
    const first = await startDevServer({ port: 0, stateFile, retryDelaysMs: [50] });
    await register(first, receiver);
    const triggered = first.kallima.trigger({ events: [{ type: "job.completed" }] });
    await waitFor(() => receiver.received.length === 1, "the first attempt");
    // The first attempt (answered 503) is in flight while the server stops.
    await first.kallima.close();
    const { deliveries } = await triggered;
    await first.close();
    slow = false;
    const second = await devServer({ stateFile, retryDelaysMs: [50] });
    await waitFor(
      async () => (await delivery(second, deliveries[0]!.id)).delivered_at !== null,
      "the retry after the restart",
    );
    expect((await attempts(second, deliveries[0]!.id)).map((a) => a.response_status)).toEqual([
      503, 200,
    ]);
  });

  it("keeps endpoints, events and deliveries across a restart, and carries on pending retries", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kallima-dev-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const stateFile = join(dir, "state.db");
    let up = false;
    const receiver = await receiverAnswering(() => (up ? 200 : 500));
    const first = await startDevServer({ port: 0, stateFile, retryDelaysMs: [300] });
    const webhook = await register(first, receiver);
    const { deliveries } = await trigger(first, { type: "job.completed" });
    await first.close();
    const saved = openConnection(stateFile);
    const records = (table: string) =>
      saved
        .prepare(`SELECT record FROM ${table}`)
        .all()
        .map((row) => JSON.parse((row as { record: string }).record));
    expect(records("webhooks")).toHaveLength(1);
    expect(records("deliveries")[0].next_attempt_at).not.toBeNull();
    saved.close();

    up = true;
    const second = await devServer({ stateFile, retryDelaysMs: [300] });
    expect((await call(second.url, "GET", "/v1/webhooks")).body).toEqual([
      expect.objectContaining({ id: webhook.id, url: receiver.url }),
    ]);
    expect((await call(second.url, "GET", "/v1/dev/events")).body).toHaveLength(1);
    await waitFor(
      async () => (await delivery(second, deliveries[0]!.id)).delivered_at !== null,
      "the retry planned before the restart",
    );
    expect((await delivery(second, deliveries[0]!.id)).attempts).toBe(2);
    // The secret survived too: the retry verified with the one the receiver was given.
    expect(receiver.received.at(-1)!.verdict.ok).toBe(true);
  });
});
