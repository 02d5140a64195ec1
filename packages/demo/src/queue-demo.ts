import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKallimaWorker, createWebhookHandler } from "@kallima/webhooks";
import { handleNodeRequest } from "@kallima/webhooks/node";
import type { WebhookQueue } from "@kallima/webhooks/queue";
import { createEvent, signPayload } from "@kallima/webhooks/testing";
import { bullmqQueue } from "@kallima/webhooks-bullmq";
import { runCli } from "@kallima/webhooks-cli";
import { sqliteQueue } from "@kallima/webhooks-sqlite";
import type { Paint, Writable } from "./output.js";
import { type DemoRedis, RedisUnavailableError, startDemoRedis } from "./redis-server.js";

const SECRET = "whsec_queueDemoSecret0000000000000000000";

/** Waits for `check`, up to `timeoutMs`. */
async function until(check: () => boolean | Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/** One queue driver the scenario runs on, and how the CLI names its queue. */
export interface QueueDemoDriver {
  /** Printed in the section heading: `Queue mode on <title>:`. */
  title: string;
  /** A fresh, empty queue; the scenario closes it. */
  queue: WebhookQueue;
  /** The CLI's flags naming the same queue, e.g. `["--sqlite", path]`. */
  cliFlags: string[];
  /** The flags as printed (a long path shortened), e.g. `--sqlite …`. */
  cliShown: string;
}

/**
 * Queue mode end to end on one driver: a receiver on a real port acknowledges signed deliveries
 * in milliseconds, a worker runs them, a flaky handler is retried until it succeeds, a poison
 * event is dead-lettered, then replayed with the CLI once the handler is fixed. Returns whether
 * every step went as expected.
 */
export async function runQueueScenario(
  out: Writable,
  paint: Paint,
  driver: QueueDemoDriver,
): Promise<boolean> {
  const { queue, cliFlags, cliShown } = driver;
  const receiver = createWebhookHandler({ secret: SECRET, queue, logger: false });
  const server: Server = createServer((req, res) => void handleNodeRequest(receiver, req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/kallima-events`;
  const say = (line: string) => out.write(`  ${line}\n`);
  const checks: boolean[] = [];
  const check = (ok: boolean, line: string) => {
    checks.push(ok);
    say(`${ok ? paint.ok("✓") : paint.bad("✗")} ${line}`);
  };

  const handled: string[] = [];
  let poisonFixed = false;
  const worker = createKallimaWorker({
    queue,
    attempts: 3,
    backoff: { initialMs: 100, maxMs: 400 },
    shutdownSignals: false,
    logger: false,
    on: {
      "job.completed": (event, { attempt }) => void handled.push(`${event.id}#${attempt}`),
      "job.failed": (event, { attempt }) => {
        if (attempt < 3) throw new Error(`flaky dependency (attempt ${attempt})`);
        handled.push(`${event.id}#${attempt}`);
      },
      "webhook.test": (event, { attempt }) => {
        if (!poisonFixed) throw new Error("cannot parse this event");
        handled.push(`${event.id}#${attempt}`);
      },
    },
  });

  const send = async (type: string, id: string) => {
    const payload = JSON.stringify(createEvent(type, { id: "job_demo" }, { id }));
    const { headers } = await signPayload({ secret: SECRET, payload });
    const started = performance.now();
    const response = await fetch(url, { method: "POST", headers, body: payload });
    const ms = performance.now() - started;
    const body = (await response.json()) as { outcome?: string };
    return { status: response.status, outcome: body.outcome, ms };
  };

  out.write(`\n${paint.bold("Queue mode")} on ${driver.title}:\n`);
  try {
    // A forged delivery first: refused before anything is stored (and the connection is warm).
    const forged = await fetch(url, {
      method: "POST",
      headers: {
        "x-kallima-signature": "v1=00",
        "x-kallima-timestamp": `${Math.floor(Date.now() / 1000)}`,
      },
      body: "{}",
    });
    check(forged.status === 401, `a forged delivery: ${forged.status}, nothing queued`);
    const ok = await send("job.completed", "evt_queue_demo_ok");
    check(
      ok.status === 202 && ok.outcome === "queued",
      `job.completed acknowledged ${ok.status} ${ok.outcome} in ${ok.ms.toFixed(1)} ms`,
    );
    const repeat = await send("job.completed", "evt_queue_demo_ok");
    check(
      repeat.outcome === "duplicate",
      `its repeat: ${repeat.status} ${repeat.outcome}, no second job`,
    );
    check(
      await until(() => handled.includes("evt_queue_demo_ok#1"), 5_000),
      "the worker ran it (attempt 1)",
    );

    const flaky = await send("job.failed", "evt_queue_demo_flaky");
    check(
      flaky.status === 202,
      `job.failed acknowledged in ${flaky.ms.toFixed(1)} ms; its handler fails twice`,
    );
    check(
      await until(() => handled.includes("evt_queue_demo_flaky#3"), 10_000),
      "retried with backoff, done on attempt 3",
    );

    const poison = await send("webhook.test", "evt_queue_demo_poison");
    check(
      poison.status === 202,
      `a poison webhook.test acknowledged in ${poison.ms.toFixed(1)} ms`,
    );
    check(
      await until(async () => (await queue.stats()).dead === 1, 10_000),
      "dead-lettered after 3 attempts",
    );
    const listed = { out: "", err: "" };
    const capture = (key: "out" | "err") => ({
      write: (chunk: string) => {
        listed[key] += chunk;
        return true;
      },
    });
    const io = { stdout: capture("out"), stderr: capture("err"), env: {} };
    await runCli(["queue", "failed", ...cliFlags], io);
    say(
      paint.dim(
        `$ kallima-webhooks queue failed ${cliShown}\n    ${listed.out.trimEnd().replaceAll("\n", "\n    ")}`,
      ),
    );
    poisonFixed = true;
    listed.out = "";
    const code = await runCli(["queue", "replay", "--failed", ...cliFlags], io);
    say(paint.dim(`$ kallima-webhooks queue replay --failed ${cliShown} → ${listed.out.trim()}`));
    check(
      code === 0 && (await until(() => handled.includes("evt_queue_demo_poison#1"), 10_000)),
      "after the fix, replayed and processed once",
    );
    const stats = await queue.stats();
    check(stats.done === 3 && stats.dead === 0, `queue: ${stats.done} done, ${stats.dead} dead`);
  } finally {
    await worker.close();
    await new Promise((resolve) => server.close(resolve));
    await queue.close();
  }
  return checks.every(Boolean);
}

/** The scenario on the embedded SQLite driver, in a scratch file deleted afterwards. */
async function runOnSqlite(out: Writable, paint: Paint): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), "kallima-queue-demo-"));
  const path = join(dir, "kallima-webhooks.db");
  try {
    return await runQueueScenario(out, paint, {
      title: `the embedded driver (SQLite file ${paint.dim(path)})`,
      queue: sqliteQueue({ path, pollMs: 20 }),
      cliFlags: ["--sqlite", path],
      cliShown: "--sqlite …",
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The scenario on BullMQ, against a throwaway `redis-server` stopped afterwards. Without one it
 * prints why the section is skipped and passes: the demo must run where there is no Redis.
 */
async function runOnRedis(out: Writable, paint: Paint): Promise<boolean> {
  let redis: DemoRedis;
  try {
    redis = await startDemoRedis();
  } catch (error) {
    if (!(error instanceof RedisUnavailableError)) throw error;
    out.write(
      `\n${paint.bold("Queue mode")} on BullMQ/Redis: ${paint.dim(`skipped, ${error.message}; install redis-server (or set REDIS_SERVER_BIN) to see it.`)}\n`,
    );
    return true;
  }
  try {
    return await runQueueScenario(out, paint, {
      title: `BullMQ (a throwaway redis-server at ${paint.dim(redis.url)})`,
      queue: bullmqQueue({ connection: { host: "127.0.0.1", port: redis.port } }),
      cliFlags: ["--redis", redis.url],
      cliShown: `--redis ${redis.url}`,
    });
  } finally {
    await redis.stop();
  }
}

/**
 * Queue mode on the embedded SQLite driver, then on BullMQ when a `redis-server` can be started
 * (else one line says why that part is skipped). Returns whether every step went as expected.
 */
export async function runQueueDemo(out: Writable, paint: Paint): Promise<boolean> {
  const onSqlite = await runOnSqlite(out, paint);
  const onRedis = await runOnRedis(out, paint);
  return onSqlite && onRedis;
}
