import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKallimaWorker } from "@kallima/webhooks";
import type { QueuedDelivery, WebhookQueue } from "@kallima/webhooks/queue";
import { bullmqQueue } from "@kallima/webhooks-bullmq";
import { sqliteQueue } from "@kallima/webhooks-sqlite";
import { Queue, Worker } from "bullmq";
import {
  cursor,
  deliveryPool,
  type HttpSettings,
  load,
  PACKAGE_DIR,
  startProcess,
} from "../http/load.js";
import { median } from "../measure.js";

export interface AckRow {
  framework: string;
  mode: "inline" | "queue";
  handler: "empty" | "slow";
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

export interface ThroughputRow {
  name: string;
  eventsPerSec: number;
}

export interface QueueBenchResult {
  ack: AckRow[];
  /** Worker drain rate on Redis: createKallimaWorker on bullmqQueue and the hand-written floor. */
  bullmq:
    | {
        status: "measured";
        worker: ThroughputRow;
        floor: ThroughputRow;
        ratio: number;
        jobs: number;
        concurrency: number;
      }
    | { status: "skipped"; reason: string };
  /** The embedded driver: enqueue latency, enqueues/s, and the worker's drain rate. */
  sqlite: {
    enqueueP50Ms: number;
    enqueueP99Ms: number;
    enqueuesPerSec: number;
    workerEventsPerSec: number;
    jobs: number;
  };
}

export interface QueueBenchSettings {
  http: HttpSettings;
  jobs: number;
  concurrency: number;
}

function startQueueServer(framework: string, mode: string, handler: string) {
  const loader = join(PACKAGE_DIR, "node_modules", "tsx", "dist", "loader.mjs");
  return startProcess({
    command: process.execPath,
    args: [
      "--import",
      loader,
      join(PACKAGE_DIR, "src", "queue", "server.ts"),
      framework,
      mode,
      handler,
    ],
    readyPattern: /READY (\d+)/,
    timeoutMs: 30_000,
  });
}

function delivery(index: number, tag: string): QueuedDelivery {
  const eventId = `evt_bench_${tag}_${index}`;
  return {
    eventId,
    eventType: "job.completed",
    rawBody: JSON.stringify({ id: eventId, type: "job.completed", data: { id: "job_1" } }),
    headers: { "x-kallima-signature": "v1=00", "x-kallima-timestamp": "0" },
    receivedAt: Date.now(),
  };
}

/** Time for a worker with an empty handler to drain `jobs` already in the queue. */
async function drain(queue: WebhookQueue, jobs: number, concurrency: number): Promise<number> {
  let done = 0;
  let finished!: () => void;
  const all = new Promise<void>((resolve) => {
    finished = resolve;
  });
  // The clock starts at the first job: connecting and loading scripts is not throughput.
  let started = 0;
  const worker = createKallimaWorker({
    queue,
    concurrency,
    shutdownSignals: false,
    logger: false,
    on: {
      "job.completed": () => {
        if (done === 0) started = performance.now();
        done += 1;
        if (done === jobs) finished();
      },
    },
  });
  await all;
  const seconds = (performance.now() - started) / 1000;
  await worker.close();
  return jobs / seconds;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

async function withRedis<T>(run: (port: number) => Promise<T>): Promise<T | string> {
  const binary = process.env.REDIS_SERVER_BIN ?? "redis-server";
  if (spawnSync(binary, ["--version"]).status !== 0) return `no ${binary} on this machine`;
  const port = await freePort();
  const child = spawn(binary, ["--port", String(port), "--save", "", "--appendonly", "no"], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  await new Promise<void>((resolve) => {
    child.stdout.on("data", (chunk: Buffer) => {
      if (/Ready to accept connections/.test(chunk.toString())) resolve();
    });
  });
  try {
    return await run(port);
  } finally {
    child.kill("SIGKILL");
  }
}

/** The hand-written BullMQ floor: addBulk, then a Worker with an empty processor. */
async function bullmqFloor(port: number, jobs: number, concurrency: number): Promise<number> {
  const connection = { host: "127.0.0.1", port };
  const name = `floor-${Date.now()}`;
  const queue = new Queue(name, { connection });
  for (let from = 0; from < jobs; from += 1_000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1_000, jobs - from) }, (_, offset) => {
        const item = delivery(from + offset, name);
        return { name: "job.completed", data: { delivery: item }, opts: { jobId: item.eventId } };
      }),
    );
  }
  let done = 0;
  let finished!: () => void;
  const all = new Promise<void>((resolve) => {
    finished = resolve;
  });
  // The clock starts at the first job: connecting and loading scripts is not throughput.
  let started = 0;
  const worker = new Worker(
    name,
    async (job) => {
      JSON.parse((job.data as { delivery: QueuedDelivery }).delivery.rawBody);
      if (done === 0) started = performance.now();
      done += 1;
      if (done === jobs) finished();
    },
    { connection: { ...connection, maxRetriesPerRequest: null }, concurrency },
  );
  await all;
  const seconds = (performance.now() - started) / 1000;
  await worker.close();
  await queue.close();
  return jobs / seconds;
}

/** Queue mode's rows: ack latency against inline, worker throughput, the embedded driver. */
export async function benchQueue(
  settings: QueueBenchSettings,
  log: (line: string) => void,
): Promise<QueueBenchResult> {
  const ack: AckRow[] = [];
  for (const framework of ["express", "hono"]) {
    // Smoke runs send a fixed number of requests: at 2 s each the slow rows would take minutes.
    const handlers =
      settings.http.amount === undefined ? (["empty", "slow"] as const) : (["empty"] as const);
    for (const handler of handlers) {
      for (const mode of ["inline", "queue"] as const) {
        const server = await startQueueServer(framework, mode, handler);
        try {
          const next = cursor(deliveryPool(settings.http, `${framework}_${mode}_${handler}`));
          const runs = [];
          for (let round = 0; round < settings.http.rounds; round++) {
            // A run must outlast the 2 s handler, or inline mode answers nothing within it.
            const seconds =
              handler === "slow"
                ? Math.max(settings.http.durationSeconds, 6)
                : settings.http.durationSeconds;
            runs.push(await load(server, next, settings.http, seconds));
          }
          const row: AckRow = {
            framework,
            mode,
            handler,
            requestsPerSec: median(runs.map((run) => run.requestsPerSec)),
            p50Ms: median(runs.map((run) => run.p50Ms)),
            p99Ms: median(runs.map((run) => run.p99Ms)),
          };
          ack.push(row);
          log(
            `queue ack: ${framework} ${mode} ${handler}: ${row.requestsPerSec.toFixed(0)} req/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms`,
          );
        } finally {
          await server.stop();
        }
      }
    }
  }

  const { jobs, concurrency } = settings;
  const dir = mkdtempSync(join(tmpdir(), "kallima-bench-sqlite-"));
  let sqliteResult: QueueBenchResult["sqlite"];
  try {
    const queue = sqliteQueue({ path: join(dir, "queue.db"), pollMs: 10 });
    const latencies: number[] = [];
    const started = performance.now();
    for (let index = 0; index < jobs; index++) {
      const at = performance.now();
      await queue.enqueue(delivery(index, "sqlite"));
      latencies.push(performance.now() - at);
    }
    const enqueuesPerSec = jobs / ((performance.now() - started) / 1000);
    latencies.sort((x, y) => x - y);
    const workerEventsPerSec = await drain(queue, jobs, concurrency);
    await queue.close();
    sqliteResult = {
      enqueueP50Ms: latencies[Math.floor(jobs / 2)]!,
      enqueueP99Ms: latencies[Math.min(jobs - 1, Math.floor(jobs * 0.99))]!,
      enqueuesPerSec,
      workerEventsPerSec,
      jobs,
    };
    log(
      `queue sqlite: enqueue p50 ${sqliteResult.enqueueP50Ms.toFixed(2)} ms, p99 ${sqliteResult.enqueueP99Ms.toFixed(2)} ms, ${enqueuesPerSec.toFixed(0)} enqueues/s; worker ${workerEventsPerSec.toFixed(0)} events/s`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const measured = await withRedis(async (port) => {
    // Alternating rounds, so that warm-up and load drift do not favour either side.
    const floors: number[] = [];
    const workers: number[] = [];
    for (let round = 0; round < 3; round++) {
      floors.push(await bullmqFloor(port, jobs, concurrency));
      const name = `worker-${round}-${Date.now()}`;
      const queue = bullmqQueue({ connection: { host: "127.0.0.1", port }, name });
      for (let index = 0; index < jobs; index++) await queue.enqueue(delivery(index, name));
      workers.push(await drain(queue, jobs, concurrency));
      await queue.close();
    }
    return { floor: median(floors), worker: median(workers) };
  });
  const bullmq: QueueBenchResult["bullmq"] =
    typeof measured === "string"
      ? { status: "skipped", reason: measured }
      : {
          status: "measured",
          worker: { name: "createKallimaWorker on bullmqQueue", eventsPerSec: measured.worker },
          floor: { name: "hand-written BullMQ Worker", eventsPerSec: measured.floor },
          ratio: measured.worker / measured.floor,
          jobs,
          concurrency,
        };
  log(
    bullmq.status === "measured"
      ? `queue bullmq: worker ${bullmq.worker.eventsPerSec.toFixed(0)} events/s, floor ${bullmq.floor.eventsPerSec.toFixed(0)} events/s (${bullmq.ratio.toFixed(2)}× floor)`
      : `queue bullmq: skipped (${bullmq.reason})`,
  );
  return { ack, bullmq, sqlite: sqliteResult };
}

/** The report's section for queue mode. */
export function renderQueue(result: QueueBenchResult | undefined): string[] {
  if (!result) return [];
  const out = [
    "",
    "## 5. Queue mode",
    "",
    "Ack latency of a signed 1 KiB delivery over HTTP: inline (the handler runs before the answer) against queue mode on the embedded SQLite driver (verify, commit the row, answer 202; no worker running). `slow` is a handler that takes 2 s.",
    "",
    "| framework | handler | mode | req/s | p50 | p99 |",
    "|---|---|---|---:|---:|---:|",
  ];
  for (const row of result.ack) {
    out.push(
      `| ${row.framework} | ${row.handler} | ${row.mode} | ${row.requestsPerSec.toFixed(0)} | ${row.p50Ms} ms | ${row.p99Ms} ms |`,
    );
  }
  const s = result.sqlite;
  out.push(
    "",
    `Embedded driver (\`@kallima/webhooks-sqlite\`, WAL, \`synchronous=FULL\`): ${s.jobs} enqueues one after another, p50 ${s.enqueueP50Ms.toFixed(2)} ms, p99 ${s.enqueueP99Ms.toFixed(2)} ms, ${s.enqueuesPerSec.toFixed(0)} enqueues/s; a worker drains them at ${s.workerEventsPerSec.toFixed(0)} events/s.`,
    "",
  );
  const b = result.bullmq;
  out.push(
    b.status === "measured"
      ? `Worker throughput on one local Redis, ${b.jobs} jobs queued beforehand, concurrency ${b.concurrency}, empty handler: \`createKallimaWorker\` on \`bullmqQueue\` ${b.worker.eventsPerSec.toFixed(0)} events/s, a hand-written BullMQ \`Worker\` ${b.floor.eventsPerSec.toFixed(0)} events/s: **${b.ratio.toFixed(2)}× the floor** (target ≥ 0.90×).`
      : `Worker throughput on BullMQ: skipped (${b.reason}).`,
  );
  return out;
}
