import { randomUUID } from "node:crypto";
import { expect, it } from "vitest";
import type { ConformanceApp, ConformanceOptions } from "./index.js";
import { completed, errorCode } from "./index.js";
import { signDelivery } from "./signer.js";

/** A delivery as queue mode hands it to a queue driver, as far as this suite relies on it. */
export interface ConformanceQueuedDelivery {
  eventId: string;
  eventType: string;
  rawBody: string;
  headers: Record<string, string>;
  receivedAt: number;
}

/** The receiver's side of a queue driver (`enqueue`), as this suite fakes it. */
export interface ConformanceQueue {
  enqueue(delivery: ConformanceQueuedDelivery): Promise<"queued" | "duplicate">;
}

type Mount = (
  on: ConformanceOptions["on"],
  extra?: Partial<ConformanceOptions>,
) => Promise<ConformanceApp>;

/** A queue that keeps deliveries in an array, and can be made to fail like an engine that is down. */
function recordingQueue() {
  const stored: ConformanceQueuedDelivery[] = [];
  const state = { down: false };
  const queue: ConformanceQueue = {
    async enqueue(delivery) {
      if (state.down) throw new Error("connection refused");
      if (stored.some((item) => item.eventId === delivery.eventId)) return "duplicate";
      stored.push(delivery);
      return "queued";
    },
  };
  return { queue, stored, state };
}

/**
 * Queue mode through the adapter: the `queue` option reaches the core, a verified delivery is
 * stored (exact body, headers) and answered 202 `queued`, a repeat 200 `duplicate`, a queue
 * fault 503 `queue_unavailable` with `Retry-After`, and a forged delivery is never stored.
 */
export function registerQueueModeCases(mount: Mount): void {
  // The queue dedupes in queue mode: no idempotency store beside it.
  const queueMode = (queue: ConformanceQueue) => ({
    queue: queue as never,
    idempotency: undefined,
  });

  it("queue mode: stores the verified delivery and answers 202 queued, then duplicate", async () => {
    const { queue, stored } = recordingQueue();
    const app = await mount({}, queueMode(queue));
    const id = `evt_queue_${randomUUID()}`;
    const body = completed(id);
    const delivery = signDelivery(body);
    const first = await app.send(delivery);
    expect(first.status).toBe(202);
    expect(JSON.parse(first.body)).toEqual({ received: true, outcome: "queued" });
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ eventId: id, eventType: "job.completed", rawBody: body });
    expect(stored[0]?.headers["x-kallima-signature"]).toBe(delivery.headers["x-kallima-signature"]);
    const repeat = await app.send(signDelivery(body, { format: "kallima-signature" }));
    expect(repeat.status).toBe(200);
    expect(JSON.parse(repeat.body)).toEqual({ received: true, outcome: "duplicate" });
    expect(stored).toHaveLength(1);
  });

  it("queue mode: a queue fault is a 503 with Retry-After, and the retry is queued", async () => {
    const { queue, stored, state } = recordingQueue();
    const app = await mount({}, queueMode(queue));
    const body = completed(`evt_queue_down_${randomUUID()}`);
    state.down = true;
    const refused = await app.send(signDelivery(body));
    expect([refused.status, errorCode(refused)]).toEqual([503, "queue_unavailable"]);
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
    expect(stored).toHaveLength(0);
    state.down = false;
    expect((await app.send(signDelivery(body))).status).toBe(202);
    expect(stored).toHaveLength(1);
  });

  it("queue mode: a forged delivery is rejected and never stored", async () => {
    const { queue, stored } = recordingQueue();
    const app = await mount({}, queueMode(queue));
    const forged = await app.send(signDelivery(completed(), { secret: "whsec_not_the_secret" }));
    expect(forged.status).toBe(401);
    expect(stored).toHaveLength(0);
  });
}
