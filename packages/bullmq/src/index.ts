import { randomUUID } from "node:crypto";
import {
  type DeadLetter,
  type DeadLetterFilter,
  describeError,
  type EnqueueOutcome,
  type QueueConsumer,
  type QueuedDelivery,
  type QueueStats,
  type WebhookQueue,
} from "@kallima/webhooks/queue";
import { type ConnectionOptions, type Job, Queue, UnrecoverableError, Worker } from "bullmq";

/** Options of {@link bullmqQueue}. */
export interface BullmqQueueOptions {
  /**
   * How to reach Redis: ioredis options (`{ host, port }`, `{ url }` is not one: use
   * `{ host, port, password }`) or an ioredis instance. The receiver's side is given
   * `enableOfflineQueue: false` so that with Redis down an enqueue fails at once (503) instead of
   * waiting for a reconnection; workers get `maxRetriesPerRequest: null`, as BullMQ requires.
   */
  connection: ConnectionOptions;
  /** The BullMQ queue name. Default `"kallima-webhooks"`. */
  name?: string;
  /** BullMQ's key prefix. Default `"bull"`. */
  prefix?: string;
  /** How long done jobs are kept (repeats of their ids stay duplicates), in seconds. Default 72 h. */
  doneTtlSeconds?: number;
  /**
   * How long a worker's lock on a running job lasts, in ms (renewed while it runs). Default
   * 30,000. A worker killed mid-handler leaves its job to stall detection, which runs every
   * `stalledIntervalMs` (default 30,000): the job then runs again, as its next attempt.
   */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

/** The BullMQ queue: a {@link WebhookQueue} on Redis, plus the BullMQ `Queue` it uses. */
export interface BullmqWebhookQueue extends WebhookQueue {
  /** The producer-side BullMQ queue, for dashboards (Bull Board) and anything else BullMQ does. */
  readonly bullmq: Queue;
}

interface JobData {
  delivery: QueuedDelivery;
  /** Unique per enqueue call: which call stored the job, to tell a new job from a repeat. */
  nonce: string;
}

const DEFAULT_NAME = "kallima-webhooks";
// BullMQ refuses custom ids that contain ":" or look like integers: those event ids are
// percent-encoded, behind a "%" that no id used as it is contains, so the mapping stays one-to-one.
const PLAIN_ID = /^[^:%]+$/;
const INTEGER = /^\d+$/;

/** The BullMQ job id of an event id: the id itself, unless BullMQ would refuse it. */
export function jobIdOf(eventId: string): string {
  return PLAIN_ID.test(eventId) && !INTEGER.test(eventId)
    ? eventId
    : `%${encodeURIComponent(eventId)}`;
}

function withOptions(connection: ConnectionOptions, extra: Record<string, unknown>) {
  // An ioredis instance is used as it is; options get the side's settings.
  const isClient = typeof (connection as { duplicate?: unknown }).duplicate === "function";
  return isClient ? connection : ({ ...connection, ...extra } as ConnectionOptions);
}

/**
 * Queue mode on BullMQ and Redis, for fleets: any number of receivers and workers on any number
 * of machines. The job id is the event id, so a repeat delivery adds no job; done jobs are kept
 * `doneTtlSeconds`, dead-lettered ones (BullMQ's failed set) until replayed or removed.
 *
 * @example
 * ```ts
 * const queue = bullmqQueue({ connection: { host: "127.0.0.1", port: 6379 } });
 * app.post("/webhooks/kallima", kallimaWebhooks({ secret, queue }));
 * createKallimaWorker({ queue, concurrency: 8, on: { "job.completed": save } });
 * ```
 */
export function bullmqQueue(options: BullmqQueueOptions): BullmqWebhookQueue {
  if (typeof options !== "object" || options === null || !options.connection) {
    throw new TypeError("bullmqQueue needs { connection }: how to reach Redis.");
  }
  const name = options.name ?? DEFAULT_NAME;
  const prefix = options.prefix ?? "bull";
  const doneTtlSeconds = options.doneTtlSeconds ?? 72 * 60 * 60;
  const producer = new Queue<JobData>(name, {
    connection: withOptions(options.connection, { enableOfflineQueue: false }),
    prefix,
  });
  // Errors reach the callers of each command; without a listener BullMQ would print them too.
  producer.on("error", () => {});
  const workers = new Set<Worker>();

  const jobs = async (): Promise<Array<Job<JobData>>> =>
    (await producer.getFailed(0, -1)) as Array<Job<JobData>>;

  return {
    bullmq: producer,
    async enqueue(delivery): Promise<EnqueueOutcome> {
      const nonce = randomUUID();
      const jobId = jobIdOf(delivery.eventId);
      await producer.add(
        delivery.eventType,
        { delivery, nonce },
        {
          jobId,
          // The worker dead-letters after its own `attempts` (UnrecoverableError); until then
          // BullMQ retries, after the delay the worker's backoff says.
          attempts: Number.MAX_SAFE_INTEGER,
          backoff: { type: "kallima" },
          removeOnComplete: { age: doneTtlSeconds },
          removeOnFail: false,
        },
      );
      const client = await producer.client;
      const stored = await client.hget(producer.toKey(jobId), "data");
      return stored !== null && (JSON.parse(stored) as JobData).nonce === nonce
        ? "queued"
        : "duplicate";
    },
    consume(processor, consumeOptions): QueueConsumer {
      const worker = new Worker<JobData>(
        name,
        async (job) => {
          const attempt = job.attemptsStarted;
          try {
            await processor({ delivery: job.data.delivery, attempt });
          } catch (error) {
            if (attempt >= consumeOptions.attempts) {
              throw new UnrecoverableError(describeError(error));
            }
            throw error;
          }
        },
        {
          connection: withOptions(options.connection, { maxRetriesPerRequest: null }),
          prefix,
          concurrency: consumeOptions.concurrency,
          // A crash counts as an attempt: a job that kills its worker each time ends dead too.
          maxStalledCount: consumeOptions.attempts,
          ...(options.lockDurationMs ? { lockDuration: options.lockDurationMs } : {}),
          ...(options.stalledIntervalMs ? { stalledInterval: options.stalledIntervalMs } : {}),
          settings: {
            // The attempt that failed, counting runs cut short by a crash, as the worker does.
            backoffStrategy: (made: number, _type?: string, _error?: Error, job?: unknown) =>
              consumeOptions.retryDelayMs(
                (job as { attemptsStarted?: number } | undefined)?.attemptsStarted ?? made,
              ),
          },
        },
      );
      worker.on("error", () => {});
      workers.add(worker);
      return {
        async close() {
          workers.delete(worker);
          // Not forced: BullMQ waits for the jobs in flight, which then complete or fail.
          await worker.close();
        },
      };
    },
    async stats(): Promise<QueueStats> {
      const counts = await producer.getJobCounts(
        "waiting",
        "prioritized",
        "paused",
        "waiting-children",
        "delayed",
        "active",
        "completed",
        "failed",
      );
      const of = (state: string) => counts[state] ?? 0;
      return {
        waiting: of("waiting") + of("prioritized") + of("paused") + of("waiting-children"),
        delayed: of("delayed"),
        active: of("active"),
        done: of("completed"),
        dead: of("failed"),
      };
    },
    async failed(filter: DeadLetterFilter = {}): Promise<DeadLetter[]> {
      return (await jobs())
        .filter((job) => job?.data?.delivery)
        .map(
          (job): DeadLetter => ({
            eventId: job.data.delivery.eventId,
            eventType: job.data.delivery.eventType,
            attempts: job.attemptsStarted,
            lastError: job.stacktrace?.at(-1) ?? job.failedReason ?? "",
            failedAt: job.finishedOn ?? 0,
            receivedAt: job.data.delivery.receivedAt,
          }),
        )
        .filter(
          (letter) =>
            (!filter.types || filter.types.includes(letter.eventType)) &&
            (filter.since === undefined || letter.failedAt >= filter.since),
        )
        .sort((x, y) => x.failedAt - y.failedAt);
    },
    async replay(eventId): Promise<boolean> {
      const job = await producer.getJob(jobIdOf(eventId));
      if (!job) return false;
      const state = await job.getState();
      if (state !== "failed" && state !== "completed") return false;
      await job.retry(state, { resetAttemptsMade: true, resetAttemptsStarted: true });
      return true;
    },
    async close() {
      await Promise.all([...workers].map((worker) => worker.close()));
      workers.clear();
      await producer.close();
    },
  };
}

export type { ConnectionOptions };
