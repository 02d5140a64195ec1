import type {
  DeadLetter,
  DeadLetterFilter,
  EnqueueOutcome,
  QueueConsumer,
  QueuedDelivery,
  QueueJobState,
  QueueStats,
  WebhookQueue,
} from "./driver.js";
import { type LeasedJob, pollingConsumer } from "./polling.js";

interface MemoryJob {
  delivery: QueuedDelivery;
  state: QueueJobState;
  attempt: number;
  dueAt: number;
  token: string | undefined;
  lastError?: string;
  failedAt?: number;
}

/** Options of {@link memoryQueue}. */
export interface MemoryQueueOptions {
  /** The clock, in epoch milliseconds. */
  now?: () => number;
}

/** The memory queue, which also lists its jobs (for tests). */
export interface MemoryWebhookQueue extends WebhookQueue {
  /** Every job's event id and state, in the order enqueued. */
  jobs(): Array<{ eventId: string; state: QueueJobState; attempt: number }>;
}

/**
 * A queue in this process's memory: for tests and trying queue mode out. It is not durable (a
 * restart loses every job) and not shared between processes; use `@kallima/webhooks-sqlite` on
 * one machine or `@kallima/webhooks-bullmq` for a fleet.
 *
 * @example
 * ```ts
 * const queue = memoryQueue();
 * const webhooks = createWebhookHandler({ secret, queue });
 * createKallimaWorker({ queue, on: { "job.completed": (event) => save(event) } });
 * ```
 */
export function memoryQueue(options: MemoryQueueOptions = {}): MemoryWebhookQueue {
  const now = options.now ?? Date.now;
  const jobs = new Map<string, MemoryJob>();
  const wakers = new Set<() => void>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let leases = 0;
  let closed = false;

  const wake = () => {
    for (const waker of wakers) waker();
  };
  const wakeAt = (at: number) => {
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        wake();
      },
      Math.max(0, at - now()),
    );
    (timer as { unref?: () => void }).unref?.();
    timers.add(timer);
  };
  const ensureOpen = () => {
    if (closed) return Promise.reject(new Error("The memory queue is closed."));
    return undefined;
  };

  const leased = (job: LeasedJob) => {
    const entry = jobs.get(job.delivery.eventId);
    return entry && entry.state === "active" && entry.token === job.token ? entry : undefined;
  };

  const source = {
    take(): LeasedJob | undefined {
      const at = now();
      for (const entry of jobs.values()) {
        if ((entry.state === "waiting" || entry.state === "delayed") && entry.dueAt <= at) {
          leases += 1;
          entry.state = "active";
          entry.attempt += 1;
          entry.token = `l${leases}`;
          return { delivery: entry.delivery, attempt: entry.attempt, token: entry.token };
        }
      }
      return undefined;
    },
    complete(job: LeasedJob) {
      const entry = leased(job);
      if (!entry) return;
      entry.state = "done";
      entry.token = undefined;
    },
    fail(job: LeasedJob, lastError: string, retryAt: number | undefined) {
      const entry = leased(job);
      if (!entry) return;
      entry.token = undefined;
      entry.lastError = lastError;
      if (retryAt === undefined) {
        entry.state = "dead";
        entry.failedAt = now();
      } else {
        entry.state = "delayed";
        entry.dueAt = retryAt;
        wakeAt(retryAt);
      }
    },
  };

  const deadLetter = (entry: MemoryJob): DeadLetter => ({
    eventId: entry.delivery.eventId,
    eventType: entry.delivery.eventType,
    attempts: entry.attempt,
    lastError: entry.lastError ?? "",
    failedAt: entry.failedAt ?? 0,
    receivedAt: entry.delivery.receivedAt,
  });

  return {
    enqueue(delivery): Promise<EnqueueOutcome> {
      const refused = ensureOpen();
      if (refused) return refused;
      if (jobs.has(delivery.eventId)) return Promise.resolve("duplicate");
      jobs.set(delivery.eventId, {
        delivery,
        state: "waiting",
        attempt: 0,
        dueAt: now(),
        token: undefined,
      });
      wake();
      return Promise.resolve("queued");
    },
    consume(processor, consumeOptions): QueueConsumer {
      return pollingConsumer(source, processor, consumeOptions, {
        pollMs: 1_000,
        now,
        subscribe(waker) {
          wakers.add(waker);
          return () => wakers.delete(waker);
        },
      });
    },
    stats(): Promise<QueueStats> {
      const counts: QueueStats = { waiting: 0, delayed: 0, active: 0, done: 0, dead: 0 };
      for (const entry of jobs.values()) counts[entry.state] += 1;
      return Promise.resolve(counts);
    },
    failed(filter: DeadLetterFilter = {}): Promise<DeadLetter[]> {
      const list = [...jobs.values()]
        .filter((entry) => entry.state === "dead")
        .map(deadLetter)
        .filter(
          (letter) =>
            (!filter.types || filter.types.includes(letter.eventType)) &&
            (filter.since === undefined || letter.failedAt >= filter.since),
        )
        .sort((x, y) => x.failedAt - y.failedAt);
      return Promise.resolve(list);
    },
    replay(eventId): Promise<boolean> {
      const entry = jobs.get(eventId);
      if (!entry || (entry.state !== "dead" && entry.state !== "done")) {
        return Promise.resolve(false);
      }
      entry.state = "waiting";
      entry.attempt = 0;
      entry.dueAt = now();
      delete entry.lastError;
      delete entry.failedAt;
      wake();
      return Promise.resolve(true);
    },
    close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      return Promise.resolve();
    },
    jobs() {
      return [...jobs.values()].map((entry) => ({
        eventId: entry.delivery.eventId,
        state: entry.state,
        attempt: entry.attempt,
      }));
    },
  };
}
