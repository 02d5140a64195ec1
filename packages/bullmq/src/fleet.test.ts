import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEvent, signPayload } from "@kallima/webhooks/testing";
import { eventually } from "@kallima/webhooks-conformance/queue-driver";
import { RedisServer, redisServerAvailable } from "@kallima/webhooks-conformance/redis-server";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { bullmqQueue } from "./index.js";
import {
  type ProcessOptions,
  type QueueProcess,
  readRuns,
  startQueueProcess,
} from "./test-support/processes.js";

const SECRET = "whsec_bullmqFleetTests000000000000000000";
const available = redisServerAvailable();
const dir = mkdtempSync(join(tmpdir(), "kallima-bullmq-fleet-"));
let server: RedisServer;
beforeAll(async () => {
  if (available) server = await RedisServer.start();
});
afterAll(async () => {
  await server?.remove();
  rmSync(dir, { recursive: true, force: true });
});

const running: QueueProcess[] = [];
afterEach(async () => {
  for (const child of running.splice(0)) await child.kill();
});

/** A fresh queue name and handler log, and a way to start processes on them. */
function fleet() {
  const name = `fleet-${randomUUID()}`;
  const log = join(dir, `${name}.log`);
  const start = async (role: ProcessOptions["role"], extra: Partial<ProcessOptions> = {}) => {
    const child = await startQueueProcess({
      role,
      redisPort: server.port,
      queueName: name,
      secret: SECRET,
      log,
      ...extra,
    });
    running.push(child);
    return child;
  };
  const queue = () => bullmqQueue({ connection: { host: "127.0.0.1", port: server.port }, name });
  const attemptsOf = (id: string) =>
    readRuns(log)
      .filter((run) => run.eventId === id)
      .map((run) => run.attempt);
  return { log, start, queue, attemptsOf };
}

async function signed(data: Record<string, unknown> = {}, id = `evt_${randomUUID()}`) {
  const payload = JSON.stringify(createEvent("job.completed", { id: "job_1", ...data }, { id }));
  const { headers } = await signPayload({ secret: SECRET, payload });
  return { id, headers: { ...headers }, body: payload };
}

/** Runs `tasks` with at most `limit` in flight. */
async function pooled<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < tasks.length) {
        const index = next++;
        results[index] = await tasks[index]!();
      }
    }),
  );
  return results;
}

describe.runIf(available)("bullmqQueue fleet (real processes, real Redis)", () => {
  it("2 receivers + 3 workers, 1,000 events each delivered 1–3 times: each handled exactly once", async () => {
    const { log, start } = fleet();
    const receivers = await Promise.all([start("receiver"), start("receiver")]);
    await Promise.all([start("worker"), start("worker"), start("worker")]);
    const deliveries = await Promise.all(Array.from({ length: 1_000 }, () => signed()));
    // Copies of one event go to both receivers at once, so some repeats race their first copy.
    const tasks = deliveries.map(
      (delivery, index) => () =>
        Promise.all(
          Array.from({ length: 1 + (index % 3) }, (_, copy) =>
            receivers[(index + copy) % 2]!.send(delivery.headers, delivery.body),
          ),
        ),
    );
    const answers = (await pooled(tasks, 32)).flat();
    // 1,000 first copies and 999 repeats (333 events sent twice, 333 three times).
    expect(answers).toHaveLength(1_999);
    expect(answers.filter((answer) => answer.status === 202)).toHaveLength(1_000);
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(999);
    await eventually(() => readRuns(log).length >= 1_000, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const ids = readRuns(log).map((run) => run.eventId);
    expect(ids).toHaveLength(1_000);
    expect(new Set(ids)).toEqual(new Set(deliveries.map((delivery) => delivery.id)));
    expect(new Set(readRuns(log).map((run) => run.pid)).size).toBe(3);
  }, 120_000);

  it("kill -9 of a receiver right after its 202: the event is still processed", async () => {
    const { log, start, attemptsOf } = fleet();
    const receiver = await start("receiver");
    const delivery = await signed();
    expect((await receiver.send(delivery.headers, delivery.body)).status).toBe(202);
    await receiver.kill();
    await start("worker");
    await eventually(() => readRuns(log).length === 1, 20_000);
    expect(attemptsOf(delivery.id)).toEqual([1]);
  }, 30_000);

  it("kill -9 of a worker mid-handler: stall detection retries it, the handler sees attempt 2", async () => {
    const { start, queue, attemptsOf } = fleet();
    const receiver = await start("receiver");
    const doomed = await start("worker");
    const delivery = await signed({ mode: "crash" });
    expect((await receiver.send(delivery.headers, delivery.body)).status).toBe(202);
    expect(await doomed.waitForExit()).toBe("SIGKILL");
    await start("worker");
    const inspect = queue();
    await eventually(async () => (await inspect.stats()).done === 1, 20_000);
    expect(attemptsOf(delivery.id)).toEqual([1, 2]);
    await inspect.close();
  }, 30_000);

  it("fails twice then done on attempt 3; always failing is dead-lettered; replay after a fix runs it once", async () => {
    const { start, queue, attemptsOf } = fleet();
    const receiver = await start("receiver");
    const worker = await start("worker");
    const flaky = await signed({ mode: "fail-twice" });
    const poison = await signed({ mode: "poison" });
    await receiver.send(flaky.headers, flaky.body);
    await receiver.send(poison.headers, poison.body);
    const inspect = queue();
    await eventually(async () => {
      const stats = await inspect.stats();
      return stats.done === 1 && stats.dead === 1;
    }, 20_000);
    expect(attemptsOf(flaky.id)).toEqual([1, 2, 3]);
    expect(attemptsOf(poison.id)).toEqual([1, 2, 3]);
    const [letter] = await inspect.failed();
    expect(letter).toMatchObject({ eventId: poison.id, attempts: 3 });
    expect(letter?.lastError).toContain("poison event");
    const repeat = await receiver.send(poison.headers, poison.body);
    expect(JSON.parse(repeat.body).outcome).toBe("duplicate");

    await worker.kill();
    await start("worker", { fixed: true });
    expect(await inspect.replay(poison.id)).toBe(true);
    await eventually(async () => (await inspect.stats()).done === 2, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(attemptsOf(poison.id)).toEqual([1, 2, 3, 1]);
    expect(await inspect.failed()).toEqual([]);
    await inspect.close();
  }, 40_000);

  it("Redis stopped: 503 and nothing stored; Redis back: the retried deliveries are processed", async () => {
    const { log, start } = fleet();
    const receiver = await start("receiver");
    await start("worker");
    const deliveries = await Promise.all(Array.from({ length: 5 }, () => signed()));
    await server.stop();
    for (const delivery of deliveries) {
      const answer = await receiver.send(delivery.headers, delivery.body);
      expect(answer.status).toBe(503);
      expect(JSON.parse(answer.body).error.code).toBe("queue_unavailable");
    }
    expect(readRuns(log)).toEqual([]);
    await server.start();
    // Kallima retries; the receiver's client reconnects within its retry strategy.
    await eventually(async () => {
      const answer = await receiver.send(deliveries[0]!.headers, deliveries[0]!.body);
      return answer.status === 202;
    }, 20_000);
    for (const delivery of deliveries.slice(1)) {
      expect((await receiver.send(delivery.headers, delivery.body)).status).toBe(202);
    }
    await eventually(() => readRuns(log).length === 5, 30_000);
    expect(new Set(readRuns(log).map((run) => run.eventId))).toEqual(
      new Set(deliveries.map((delivery) => delivery.id)),
    );
  }, 60_000);
});
