import { runQueueDriverSuite } from "@kallima/webhooks-conformance/queue-driver";
import { describe, expect, it } from "vitest";
import {
  createWebhookHandler,
  type DeliveryRecord,
  type KallimaWebhookError,
  type QueuedDelivery,
  QueueUnavailableError,
  WebhookConfigError,
  type WebhookQueue,
} from "./index.js";
import { backoffDelay, headerRecord, memoryQueue } from "./queue.js";
import { jobCompletedEvent, signPayload } from "./testing.js";

const SECRET = "whsec_queueTestSecret00000000000000000000";

async function delivery(payload: object | string = jobCompletedEvent()) {
  const signed = await signPayload({ secret: SECRET, payload });
  return { headers: { ...signed.headers, cookie: "session=1" }, rawBody: signed.body };
}

runQueueDriverSuite("memoryQueue", { create: () => memoryQueue() });

describe("queue mode (the handler's queue option)", () => {
  it("stores the verified delivery (exact body, headers without credentials) and answers 202", async () => {
    const queue = memoryQueue();
    const stored: QueuedDelivery[] = [];
    const spy: WebhookQueue = {
      ...queue,
      enqueue: (item) => {
        stored.push(item);
        return queue.enqueue(item);
      },
    };
    const records: DeliveryRecord[] = [];
    const handler = createWebhookHandler({
      secret: SECRET,
      queue: spy,
      onDelivery: (record) => void records.push(record),
    });
    const before = Date.now();
    const event = jobCompletedEvent();
    const request = await delivery(event);
    const result = await handler.handle(request);
    expect([result.status, result.outcome, JSON.parse(result.body)]).toEqual([
      202,
      "queued",
      { received: true, outcome: "queued" },
    ]);
    expect(stored).toEqual([
      {
        eventId: event.id,
        eventType: "job.completed",
        rawBody: request.rawBody,
        headers: {
          "x-kallima-signature": request.headers["x-kallima-signature"],
          "x-kallima-timestamp": request.headers["x-kallima-timestamp"],
          "content-type": "application/json",
        },
        receivedAt: expect.any(Number),
      },
    ]);
    expect(stored[0]?.receivedAt).toBeGreaterThanOrEqual(before);
    const repeat = await handler.handle(await delivery(event));
    expect([repeat.status, repeat.outcome]).toEqual([200, "duplicate"]);
    expect(queue.jobs()).toHaveLength(1);
    expect(records.map((record) => [record.outcome, record.status])).toEqual([
      ["queued", 202],
      ["duplicate", 200],
    ]);
  });

  it("answers 503 queue_unavailable with Retry-After when the queue fails or hangs, and reports it", async () => {
    const errors: KallimaWebhookError[] = [];
    const failing: WebhookQueue = {
      ...memoryQueue(),
      enqueue: () => Promise.reject(new Error("ECONNREFUSED")),
    };
    const hanging: WebhookQueue = { ...memoryQueue(), enqueue: () => new Promise(() => {}) };
    for (const queue of [failing, hanging]) {
      const handler = createWebhookHandler({
        secret: SECRET,
        queue,
        deadlineMs: 50,
        logger: false,
        onError: (error) => void errors.push(error),
      });
      const result = await handler.handle(await delivery());
      expect([result.status, result.outcome, result.headers["retry-after"]]).toEqual([
        503,
        "queue_unavailable",
        "30",
      ]);
      expect(JSON.parse(result.body)).toMatchObject({ error: { code: "queue_unavailable" } });
    }
    expect(errors.map((error) => error instanceof QueueUnavailableError)).toEqual([true, true]);
    expect(errors[0]?.cause).toEqual(new Error("ECONNREFUSED"));
  });

  it("never stores a forged delivery", async () => {
    const queue = memoryQueue();
    const handler = createWebhookHandler({ secret: SECRET, queue, logger: false });
    const forged = await signPayload({ secret: "whsec_other", payload: jobCompletedEvent() });
    const result = await handler.handle({ headers: forged.headers, rawBody: forged.body });
    expect(result.status).toBe(401);
    expect(queue.jobs()).toEqual([]);
  });

  it("refuses handlers or an idempotency store beside a queue: they belong to the worker", () => {
    const queue = memoryQueue();
    expect(() =>
      createWebhookHandler({ secret: SECRET, queue, on: { "job.completed": () => {} } }),
    ).toThrow(/createKallimaWorker/);
    expect(() => createWebhookHandler({ secret: SECRET, queue, onUnhandled: () => {} })).toThrow(
      WebhookConfigError,
    );
    expect(() => createWebhookHandler({ secret: SECRET, queue, idempotency: false })).toThrow(
      /idempotency/,
    );
    expect(() =>
      createWebhookHandler({ secret: SECRET, queue: {} as unknown as WebhookQueue }),
    ).toThrow(/queue driver/);
  });
});

describe("headerRecord", () => {
  it("lowercases names, joins repeats, drops credentials, from records and Fetch Headers", () => {
    expect(
      headerRecord({ "X-A": "1", "x-b": ["2", "3"], Cookie: "c", Authorization: "t", n: 5 }),
    ).toEqual({ "x-a": "1", "x-b": "2, 3", n: "5" });
    expect(headerRecord(new Headers({ "X-A": "1", "proxy-authorization": "p" }))).toEqual({
      "x-a": "1",
    });
  });
});

describe("backoffDelay", () => {
  it("doubles from initialMs up to maxMs, less up to `jitter` of it", () => {
    const none = backoffDelay({ initialMs: 100, maxMs: 1_000, jitter: 0 });
    expect([1, 2, 3, 4, 5, 30].map(none)).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    const most = backoffDelay({ initialMs: 100, maxMs: 1_000, jitter: 0.5 }, () => 1);
    expect([1, 2, 5].map(most)).toEqual([50, 100, 500]);
    const random = backoffDelay({ initialMs: 1_000 });
    for (let index = 0; index < 100; index++) {
      const delay = random(2);
      expect(delay).toBeGreaterThanOrEqual(1_000);
      expect(delay).toBeLessThanOrEqual(2_000);
    }
    expect(() => backoffDelay({ jitter: 2 })).toThrow(WebhookConfigError);
    expect(() => backoffDelay({ initialMs: -1 })).toThrow(WebhookConfigError);
  });
});
