import type { QueueConsumeOptions, QueueConsumer, QueueJob, QueueProcessor } from "./driver.js";

/** A job a {@link PollingSource} leased to one consumer. */
export interface LeasedJob extends QueueJob {
  /** Proves the lease when completing, failing or renewing it. */
  readonly token: string;
}

/**
 * The storage side of a polling driver (a table, a file, memory): {@link pollingConsumer} runs
 * the loop over it. Each call may be sync or async; a rejection from `take` is retried after a
 * poll interval, one from `complete` or `fail` leaves the lease to lapse (the job runs again).
 */
export interface PollingSource {
  /** Leases the next due job (waiting, delayed and due, or active with a lapsed lease). */
  take(): LeasedJob | undefined | Promise<LeasedJob | undefined>;
  /** Marks the job done, if the lease still holds. */
  complete(job: LeasedJob): void | Promise<void>;
  /** Records a failed attempt: due again at `retryAt`, or dead-lettered when it is undefined. */
  fail(job: LeasedJob, lastError: string, retryAt: number | undefined): void | Promise<void>;
  /** Renews the lease of a running job; absent when leases never lapse. */
  renew?(job: LeasedJob): void | Promise<void>;
}

/** How {@link pollingConsumer} waits and renews. */
export interface PollingSettings {
  /** How long an idle runner waits before looking again, in ms. */
  pollMs: number;
  /** How often a running job's lease is renewed, in ms (with `source.renew`). */
  renewMs?: number;
  /** Registers a wake-up for new jobs in this process; returns the unsubscribe. */
  subscribe?(wake: () => void): () => void;
  now?: () => number;
}

/** What a failed attempt threw, as text for the job's `lastError`. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  try {
    return typeof error === "string" ? error : JSON.stringify(error);
  } catch {
    return String(error);
  }
}

/**
 * The consume loop of a polling driver: `concurrency` runners each take a job, run it, and
 * complete or fail it (with the retry time from the worker's backoff); idle runners sleep for
 * `pollMs` or until woken. `close()` stops taking and waits for the jobs in flight.
 *
 * @example
 * ```ts
 * consume: (processor, options) => pollingConsumer(source, processor, options, { pollMs: 100 }),
 * ```
 */
export function pollingConsumer(
  source: PollingSource,
  processor: QueueProcessor,
  options: QueueConsumeOptions,
  settings: PollingSettings,
): QueueConsumer {
  const now = settings.now ?? Date.now;
  let closed = false;
  const sleepers = new Set<() => void>();
  // A wake-up that came while no runner slept (it was between take() and sleep): not lost.
  let woken = false;
  const wakeAll = () => {
    woken = true;
    for (const wake of [...sleepers]) wake();
  };
  const unsubscribe = settings.subscribe?.(wakeAll);

  const sleep = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, settings.pollMs);
      sleepers.add(done);
      woken = false;
    });

  const runOne = async (job: LeasedJob) => {
    const renewing =
      source.renew && settings.renewMs
        ? setInterval(() => {
            Promise.resolve()
              .then(() => source.renew?.(job))
              .catch(() => {});
          }, settings.renewMs)
        : undefined;
    let failure: { error: unknown } | undefined;
    try {
      await processor(job);
    } catch (error) {
      failure = { error };
    } finally {
      clearInterval(renewing);
    }
    try {
      if (!failure) await source.complete(job);
      else {
        const retryAt =
          job.attempt >= options.attempts ? undefined : now() + options.retryDelayMs(job.attempt);
        await source.fail(job, describeError(failure.error), retryAt);
      }
    } catch {
      // The lease lapses and another take() runs the job again: at-least-once, never lost.
    }
  };

  const runner = async () => {
    while (!closed) {
      let job: LeasedJob | undefined;
      try {
        job = await source.take();
      } catch {
        job = undefined;
      }
      if (job) await runOne(job);
      else if (woken) woken = false;
      else if (!closed) await sleep();
    }
  };

  const runners = Array.from({ length: options.concurrency }, () => runner());
  return {
    async close() {
      closed = true;
      unsubscribe?.();
      wakeAll();
      await Promise.all(runners);
    },
  };
}
