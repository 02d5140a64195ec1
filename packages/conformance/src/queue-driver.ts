import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";

/** A queued delivery as the driver contract defines it (structurally: no core import). */
export interface DriverDelivery {
  readonly eventId: string;
  readonly eventType: string;
  readonly rawBody: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly receivedAt: number;
}

type State = "waiting" | "delayed" | "active" | "done" | "dead";

/** The `WebhookQueue` contract of `@kallima/webhooks`, as this suite drives it. */
export interface QueueUnderTest {
  enqueue(delivery: DriverDelivery): Promise<"queued" | "duplicate">;
  consume(
    processor: (job: { delivery: DriverDelivery; attempt: number }) => Promise<void>,
    options: { concurrency: number; attempts: number; retryDelayMs(attempt: number): number },
  ): { close(): Promise<void> };
  stats(): Promise<Record<State, number>>;
  failed(filter?: { types?: readonly string[]; since?: number }): Promise<
    Array<{
      eventId: string;
      eventType: string;
      attempts: number;
      lastError: string;
      failedAt: number;
      receivedAt: number;
    }>
  >;
  replay(eventId: string): Promise<boolean>;
  close(): Promise<void>;
}

export interface QueueDriverTarget {
  /** A fresh, empty queue. */
  create(): QueueUnderTest | Promise<QueueUnderTest>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `check` holds, failing after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** A delivery of a `job.completed` event (or `type`) with a fresh id. */
export function queuedDelivery(type = "job.completed", eventId = `evt_${randomUUID()}`) {
  return {
    eventId,
    eventType: type,
    rawBody: JSON.stringify({ id: eventId, type, data: { id: "job_1", note: "é ✓" } }),
    headers: { "x-kallima-signature": "v1=00", "x-kallima-timestamp": "1700000000" },
    receivedAt: Date.now(),
  } satisfies DriverDelivery;
}

const fast = { retryDelayMs: () => 30 };

/**
 * Registers the queue driver contract's cases with vitest: dedupe at enqueue, one run per job,
 * attempts counted from 1, retries after the worker's delay, dead letters with their last
 * error, replay, graceful close and concurrency.
 *
 * @example
 * ```ts
 * runQueueDriverSuite("memory", { create: () => memoryQueue() });
 * ```
 */
export function runQueueDriverSuite(name: string, target: QueueDriverTarget): void {
  describe(`queue driver: ${name}`, () => {
    const open: Array<{ close(): Promise<void> }> = [];
    afterEach(async () => {
      for (const item of open.splice(0).reverse()) await item.close();
    });
    async function create() {
      const queue = await target.create();
      open.push(queue);
      return queue;
    }
    function consume(queue: QueueUnderTest, ...args: Parameters<QueueUnderTest["consume"]>) {
      const consumer = queue.consume(...args);
      open.push(consumer);
      return consumer;
    }

    it("keeps one job per event id: a repeat is a duplicate, in every state", async () => {
      const queue = await create();
      const delivery = queuedDelivery();
      expect(await queue.enqueue(delivery)).toBe("queued");
      expect(await queue.enqueue({ ...delivery, receivedAt: Date.now() + 1 })).toBe("duplicate");
      expect(await queue.stats()).toMatchObject({ waiting: 1, done: 0, dead: 0 });
      const runs: string[] = [];
      consume(queue, async (job) => void runs.push(job.delivery.eventId), {
        concurrency: 1,
        attempts: 3,
        ...fast,
      });
      await eventually(async () => (await queue.stats()).done === 1);
      expect(await queue.enqueue(delivery)).toBe("duplicate");
      await sleep(100);
      expect(runs).toEqual([delivery.eventId]);
    });

    it("hands the processor the stored delivery unchanged, on attempt 1", async () => {
      const queue = await create();
      const delivery = queuedDelivery("job.failed");
      await queue.enqueue(delivery);
      const seen: Array<{ delivery: DriverDelivery; attempt: number }> = [];
      consume(queue, async (job) => void seen.push(job), { concurrency: 1, attempts: 3, ...fast });
      await eventually(() => seen.length === 1);
      expect(seen[0]?.attempt).toBe(1);
      expect(seen[0]?.delivery).toEqual(delivery);
    });

    it("retries a failed attempt after the worker's delay: done on attempt 3", async () => {
      const queue = await create();
      const delivery = queuedDelivery();
      await queue.enqueue(delivery);
      const attempts: number[] = [];
      const delays: number[] = [];
      const times: number[] = [];
      consume(
        queue,
        async (job) => {
          attempts.push(job.attempt);
          times.push(Date.now());
          if (job.attempt < 3) throw new Error(`flaky ${job.attempt}`);
        },
        {
          concurrency: 1,
          attempts: 5,
          retryDelayMs: (attempt) => {
            delays.push(attempt);
            return 150;
          },
        },
      );
      await eventually(async () => (await queue.stats()).done === 1);
      expect(attempts).toEqual([1, 2, 3]);
      expect(delays).toEqual([1, 2]);
      expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(140);
      expect(await queue.failed()).toEqual([]);
    });

    it("dead-letters after the last attempt with its error, and replays it once", async () => {
      const queue = await create();
      const poison = queuedDelivery("job.failed");
      const other = queuedDelivery("job.completed");
      const before = Date.now();
      await queue.enqueue(poison);
      await queue.enqueue(other);
      let fixed = false;
      const runs: Array<[string, number]> = [];
      consume(
        queue,
        async (job) => {
          runs.push([job.delivery.eventId, job.attempt]);
          if (!fixed) throw new Error(`cannot handle ${job.delivery.eventType}`);
        },
        { concurrency: 1, attempts: 2, ...fast },
      );
      await eventually(async () => (await queue.stats()).dead === 2);
      const letters = await queue.failed();
      expect(letters.map((letter) => letter.eventId).sort()).toEqual(
        [poison.eventId, other.eventId].sort(),
      );
      const letter = letters.find((item) => item.eventId === poison.eventId);
      expect(letter).toMatchObject({ eventType: "job.failed", attempts: 2 });
      expect(letter?.lastError).toContain("cannot handle job.failed");
      expect(letter?.failedAt).toBeGreaterThanOrEqual(before);
      expect(letter?.receivedAt).toBe(poison.receivedAt);
      expect((await queue.failed({ types: ["job.failed"] })).map((item) => item.eventId)).toEqual([
        poison.eventId,
      ]);
      expect(await queue.failed({ since: Date.now() + 60_000 })).toEqual([]);
      expect(await queue.enqueue(poison)).toBe("duplicate");

      fixed = true;
      runs.length = 0;
      expect(await queue.replay(poison.eventId)).toBe(true);
      await eventually(async () => (await queue.stats()).done === 1);
      await sleep(100);
      expect(runs).toEqual([[poison.eventId, 1]]);
      expect((await queue.failed()).map((item) => item.eventId)).toEqual([other.eventId]);
      expect(await queue.replay(`evt_unknown_${randomUUID()}`)).toBe(false);
    });

    it("close() stops taking jobs and waits for the one in flight, which is marked done", async () => {
      const queue = await create();
      const first = queuedDelivery();
      await queue.enqueue(first);
      let finished = false;
      let started = false;
      const consumer = queue.consume(
        async () => {
          started = true;
          await sleep(300);
          finished = true;
        },
        { concurrency: 1, attempts: 3, ...fast },
      );
      await eventually(() => started);
      await consumer.close();
      expect(finished).toBe(true);
      expect(await queue.stats()).toMatchObject({ done: 1, active: 0 });
      await queue.enqueue(queuedDelivery());
      await sleep(200);
      expect(await queue.stats()).toMatchObject({ waiting: 1, done: 1 });
    });

    it("runs up to `concurrency` jobs at once", async () => {
      const queue = await create();
      for (let index = 0; index < 3; index++) await queue.enqueue(queuedDelivery());
      let running = 0;
      let most = 0;
      consume(
        queue,
        async () => {
          running += 1;
          most = Math.max(most, running);
          await sleep(300);
          running -= 1;
        },
        { concurrency: 3, attempts: 3, ...fast },
      );
      await eventually(async () => (await queue.stats()).done === 3);
      expect(most).toBe(3);
    });
  });
}
