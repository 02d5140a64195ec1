/**
 * The contract between the core and a queue engine. The receiver calls `enqueue`; a worker
 * (`createKallimaWorker`) calls `consume`; the CLI calls `stats`, `failed` and `replay`. Retry
 * policy (attempts, backoff) is the worker's and reaches the driver as plain numbers, so a
 * driver only stores, leases and schedules: pg-boss, SQS or a database table fit behind it.
 */

/** A verified delivery as the queue keeps it: enough to run the handlers, audit and replay it. */
export interface QueuedDelivery {
  /** The event's `id`: the queue's key, so a repeated delivery is never a second job. */
  readonly eventId: string;
  /** The event's `type`. */
  readonly eventType: string;
  /** The exact body received (verified UTF-8 JSON), as text. */
  readonly rawBody: string;
  /**
   * The request headers, names in lowercase (repeated ones joined with `", "`), without
   * `authorization`, `cookie` and `proxy-authorization`: for audit, never needed to run.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** When the receiver accepted it, epoch milliseconds. */
  readonly receivedAt: number;
}

/**
 * What `enqueue` found: `"queued"` for a new job, `"duplicate"` when the event id is already
 * known to the queue (waiting, running, done or dead-lettered), which adds nothing.
 */
export type EnqueueOutcome = "queued" | "duplicate";

/** One attempt at a job, as a driver hands it to the worker. */
export interface QueueJob {
  readonly delivery: QueuedDelivery;
  /**
   * Which attempt this is, from 1. A run cut short by a crash counts: the first run after a
   * worker was killed mid-handler is attempt 2.
   */
  readonly attempt: number;
}

/**
 * Runs one job. Resolving marks it done; rejecting is a failed attempt, which the driver retries
 * after `retryDelayMs(attempt)` or, from attempt `attempts` on, dead-letters with the error.
 */
export type QueueProcessor = (job: QueueJob) => Promise<void>;

/** How a worker asks a driver to consume. */
export interface QueueConsumeOptions {
  /** Jobs run at once by this consumer (an integer ≥ 1). */
  readonly concurrency: number;
  /** Attempts before a job is dead-lettered (an integer ≥ 1). */
  readonly attempts: number;
  /** Milliseconds to wait after failed attempt number `attempt` before the next one. */
  retryDelayMs(attempt: number): number;
}

/** A running consumer. */
export interface QueueConsumer {
  /**
   * Stops taking jobs and resolves once the jobs in flight have settled (and been marked). The
   * driver's connection stays open: close the queue itself with `WebhookQueue.close()`.
   */
  close(): Promise<void>;
}

/** Where a job is. `"dead"` is the dead-letter state: attempts exhausted. */
export type QueueJobState = "waiting" | "delayed" | "active" | "done" | "dead";

/** Counts of jobs by state. */
export type QueueStats = Record<QueueJobState, number>;

/** A dead-lettered job, for `failed` and `replay --failed`. */
export interface DeadLetter {
  readonly eventId: string;
  readonly eventType: string;
  /** Attempts made. */
  readonly attempts: number;
  /** What the last attempt threw (its stack when it had one). */
  readonly lastError: string;
  /** When it was dead-lettered, epoch milliseconds. */
  readonly failedAt: number;
  readonly receivedAt: number;
}

/** Which dead letters to list or replay. */
export interface DeadLetterFilter {
  /** Only these event types. */
  readonly types?: readonly string[];
  /** Only those dead-lettered at or after this time, epoch milliseconds. */
  readonly since?: number;
}

/**
 * A queue engine behind the receiver (`queue` option), the worker and the CLI. Every method may
 * reject on an engine fault; the receiver then answers 503 with `Retry-After`.
 *
 * @example
 * ```ts
 * import { sqliteQueue } from "@kallima/webhooks-sqlite";
 * const queue: WebhookQueue = sqliteQueue({ path: "webhooks.db" });
 * createWebhookHandler({ secret, queue });
 * ```
 */
export interface WebhookQueue {
  /**
   * Stores the delivery durably, keyed by its event id, and resolves only once it is stored (a
   * receiver answers 2xx on that). An id the queue already holds, in any state, adds nothing.
   */
  enqueue(delivery: QueuedDelivery): Promise<EnqueueOutcome>;
  /** Starts running jobs with `processor`. */
  consume(processor: QueueProcessor, options: QueueConsumeOptions): QueueConsumer;
  /** Counts of jobs by state. */
  stats(): Promise<QueueStats>;
  /** Dead-lettered jobs, oldest first. */
  failed(filter?: DeadLetterFilter): Promise<DeadLetter[]>;
  /**
   * Runs an event again: a dead-lettered or done job goes back to waiting, with a fresh attempt
   * count. Resolves `false` when the id is unknown or the job is still waiting or running.
   */
  replay(eventId: string): Promise<boolean>;
  /** Closes the engine's connections. */
  close(): Promise<void>;
}
