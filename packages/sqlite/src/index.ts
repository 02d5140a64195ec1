import { randomUUID } from "node:crypto";
import {
  type DeadLetter,
  type DeadLetterFilter,
  type EnqueueOutcome,
  type LeasedJob,
  type PollingSource,
  pollingConsumer,
  type QueuedDelivery,
  type QueueJobState,
  type QueueStats,
  type WebhookQueue,
} from "@kallima/webhooks/queue";
import { openConnection } from "./engine.js";

/** Options of {@link sqliteQueue}. */
export interface SqliteQueueOptions {
  /**
   * The database file, created when missing (with `-wal` and `-shm` files beside it). Every
   * process that opens the same file shares the queue: receivers and workers on one machine.
   */
  path: string;
  /**
   * How long a running job is leased, in seconds (renewed while it runs). A worker killed
   * mid-handler leaves its job leased until then; another worker then runs it again, as its next
   * attempt. Default 30.
   */
  leaseSeconds?: number;
  /** How often an idle worker looks for jobs enqueued by another process, in ms. Default 100. */
  pollMs?: number;
  /** How long done jobs are kept (repeats of their ids stay duplicates), in seconds. Default 72 h. */
  doneTtlSeconds?: number;
}

/** The SQLite queue: a {@link WebhookQueue} on a file. */
export interface SqliteWebhookQueue extends WebhookQueue {
  /** The database file. */
  readonly path: string;
}

interface JobRow {
  event_id: string;
  event_type: string;
  raw_body: string;
  headers: string;
  received_at: number;
  attempt: number;
  lease_token: string;
}

interface DeadRow {
  event_id: string;
  event_type: string;
  attempt: number;
  last_error: string | null;
  failed_at: number | null;
  received_at: number;
}

const SCHEMA = `
create table if not exists kallima_webhook_jobs (
  event_id text primary key,
  event_type text not null,
  raw_body text not null,
  headers text not null,
  received_at integer not null,
  state text not null,
  attempt integer not null default 0,
  due_at integer not null,
  lease_token text,
  lease_until integer,
  last_error text,
  failed_at integer,
  done_at integer
);
create index if not exists kallima_webhook_jobs_due on kallima_webhook_jobs (state, due_at);
`;

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`sqliteQueue: ${name} must be a positive number, got ${String(value)}.`);
  }
  return value;
}

/**
 * A durable queue in a SQLite file, for queue mode on one machine with no other service. The
 * receiver's 202 comes after the job's row is committed (WAL, `synchronous=FULL`), so a process
 * killed at any point after it loses nothing; receivers and workers in separate processes share
 * the file.
 *
 * @example
 * ```ts
 * const queue = sqliteQueue({ path: "./kallima-webhooks.db" });
 * app.post("/webhooks/kallima", kallimaWebhooks({ secret, queue }));
 * createKallimaWorker({ queue, on: { "job.completed": (event) => save(event) } });
 * ```
 */
export function sqliteQueue(options: SqliteQueueOptions): SqliteWebhookQueue {
  if (typeof options?.path !== "string" || options.path === "") {
    throw new TypeError("sqliteQueue needs { path }: the database file.");
  }
  const leaseMs = positive("leaseSeconds", options.leaseSeconds, 30) * 1000;
  const pollMs = positive("pollMs", options.pollMs, 100);
  const doneTtlMs = positive("doneTtlSeconds", options.doneTtlSeconds, 72 * 60 * 60) * 1000;

  const db = openConnection(options.path);
  // Several processes write the file: wait for a lock instead of failing at once.
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("PRAGMA journal_mode = WAL");
  // A commit is on disk before enqueue resolves: the 202 survives a power cut, not only a kill.
  db.exec("PRAGMA synchronous = FULL");
  db.exec(SCHEMA);
  // The worker's own connection commits without waiting for the disk: a power cut may forget a
  // lease or a done mark (the job then runs again, at-least-once), never an acknowledged job.
  // A kill -9 forgets nothing either way: the commit is in the WAL before the call returns.
  const work = openConnection(options.path);
  work.exec("PRAGMA busy_timeout = 5000");
  work.exec("PRAGMA synchronous = NORMAL");

  const insert = db.prepare(
    `insert into kallima_webhook_jobs (event_id, event_type, raw_body, headers, received_at, state, due_at)
     values (?, ?, ?, ?, ?, 'waiting', ?) on conflict (event_id) do nothing`,
  );
  const takeNext = work.prepare(
    `update kallima_webhook_jobs
        set state = 'active', attempt = attempt + 1, lease_token = ?, lease_until = ?
      where event_id = (
        select event_id from kallima_webhook_jobs
         where (state in ('waiting', 'delayed') and due_at <= ?)
            or (state = 'active' and lease_until <= ?)
         order by due_at limit 1)
      returning event_id, event_type, raw_body, headers, received_at, attempt, lease_token`,
  );
  const markDone = work.prepare(
    `update kallima_webhook_jobs set state = 'done', done_at = ?, lease_token = null, lease_until = null
      where event_id = ? and state = 'active' and lease_token = ?`,
  );
  const markFailed = work.prepare(
    `update kallima_webhook_jobs
        set state = ?, due_at = ?, last_error = ?, failed_at = ?, lease_token = null, lease_until = null
      where event_id = ? and state = 'active' and lease_token = ?`,
  );
  const renewLease = work.prepare(
    `update kallima_webhook_jobs set lease_until = ?
      where event_id = ? and state = 'active' and lease_token = ?`,
  );
  const countStates = db.prepare(
    "select state, count(*) as count from kallima_webhook_jobs group by state",
  );
  const listDead = db.prepare(
    `select event_id, event_type, attempt, last_error, failed_at, received_at
       from kallima_webhook_jobs where state = 'dead' and failed_at >= ? order by failed_at, event_id`,
  );
  const replayOne = db.prepare(
    `update kallima_webhook_jobs
        set state = 'waiting', attempt = 0, due_at = ?, last_error = null, failed_at = null, done_at = null
      where event_id = ? and state in ('dead', 'done')`,
  );
  const prune = work.prepare(
    "delete from kallima_webhook_jobs where state = 'done' and done_at < ?",
  );

  // Group commit: enqueues that arrive in the same turn of the event loop share one transaction,
  // so one fsync covers them all. Each caller still resolves only after that commit.
  interface Pending {
    delivery: QueuedDelivery;
    resolve(outcome: EnqueueOutcome): void;
    reject(error: unknown): void;
  }
  let pending: Pending[] = [];
  const insertOne = ({ delivery }: Pending): EnqueueOutcome => {
    const { changes } = insert.run(
      delivery.eventId,
      delivery.eventType,
      delivery.rawBody,
      JSON.stringify(delivery.headers),
      delivery.receivedAt,
      Date.now(),
    );
    return Number(changes) === 1 ? "queued" : "duplicate";
  };
  const insertAll = (batch: Pending[]) => db.transaction(() => batch.map(insertOne));
  const flush = () => {
    const batch = pending;
    pending = [];
    try {
      open();
      const outcomes = insertAll(batch);
      for (const [index, item] of batch.entries()) item.resolve(outcomes[index]!);
      if (outcomes.includes("queued")) wake();
    } catch (error) {
      for (const item of batch) item.reject(error);
    }
  };

  const wakers = new Set<() => void>();
  let closed = false;
  const open = () => {
    if (closed) throw new Error(`The SQLite queue at ${options.path} is closed.`);
  };

  const source: PollingSource = {
    take() {
      if (closed) return undefined;
      const at = Date.now();
      const row = takeNext.get(randomUUID(), at + leaseMs, at, at) as JobRow | undefined;
      if (!row) return undefined;
      const delivery: QueuedDelivery = {
        eventId: row.event_id,
        eventType: row.event_type,
        rawBody: row.raw_body,
        headers: JSON.parse(row.headers) as Record<string, string>,
        receivedAt: row.received_at,
      };
      return { delivery, attempt: row.attempt, token: row.lease_token };
    },
    complete(job: LeasedJob) {
      markDone.run(Date.now(), job.delivery.eventId, job.token);
    },
    fail(job: LeasedJob, lastError: string, retryAt: number | undefined) {
      const at = Date.now();
      markFailed.run(
        retryAt === undefined ? "dead" : "delayed",
        retryAt ?? at,
        lastError,
        retryAt === undefined ? at : null,
        job.delivery.eventId,
        job.token,
      );
      if (retryAt !== undefined) {
        const timer = setTimeout(() => wake(), Math.max(0, retryAt - at));
        timer.unref();
      }
    },
    renew(job: LeasedJob) {
      if (!closed) renewLease.run(Date.now() + leaseMs, job.delivery.eventId, job.token);
    },
  };
  const wake = () => {
    for (const waker of wakers) waker();
  };

  return {
    path: options.path,
    enqueue(delivery): Promise<EnqueueOutcome> {
      return new Promise((resolve, reject) => {
        if (pending.length === 0) setImmediate(flush);
        pending.push({ delivery, resolve, reject });
      });
    },
    consume(processor, consumeOptions) {
      open();
      const pruning = setInterval(() => {
        if (!closed) prune.run(Date.now() - doneTtlMs);
      }, 60_000);
      pruning.unref();
      const consumer = pollingConsumer(source, processor, consumeOptions, {
        pollMs,
        renewMs: leaseMs / 3,
        subscribe(waker) {
          wakers.add(waker);
          return () => wakers.delete(waker);
        },
      });
      return {
        async close() {
          clearInterval(pruning);
          await consumer.close();
        },
      };
    },
    stats(): Promise<QueueStats> {
      try {
        open();
        const counts: QueueStats = { waiting: 0, delayed: 0, active: 0, done: 0, dead: 0 };
        for (const row of countStates.all() as Array<{ state: QueueJobState; count: number }>) {
          counts[row.state] = row.count;
        }
        return Promise.resolve(counts);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    failed(filter: DeadLetterFilter = {}): Promise<DeadLetter[]> {
      try {
        open();
        const rows = listDead.all(filter.since ?? 0) as DeadRow[];
        const letters = rows
          .filter((row) => !filter.types || filter.types.includes(row.event_type))
          .map(
            (row): DeadLetter => ({
              eventId: row.event_id,
              eventType: row.event_type,
              attempts: row.attempt,
              lastError: row.last_error ?? "",
              failedAt: row.failed_at ?? 0,
              receivedAt: row.received_at,
            }),
          );
        return Promise.resolve(letters);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    replay(eventId): Promise<boolean> {
      try {
        open();
        const replayed = Number(replayOne.run(Date.now(), eventId).changes) === 1;
        if (replayed) wake();
        return Promise.resolve(replayed);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    close(): Promise<void> {
      if (pending.length > 0) flush();
      if (!closed) {
        closed = true;
        db.close();
        work.close();
      }
      return Promise.resolve();
    },
  };
}
