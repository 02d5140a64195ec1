import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEvent, signPayload } from "@kallima/webhooks/testing";
import { eventually } from "@kallima/webhooks-conformance/queue-driver";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { sqliteQueue } from "./index.js";
import {
  type ProcessOptions,
  type QueueProcess,
  readRuns,
  startQueueProcess,
} from "./test-support/processes.js";

const SECRET = "whsec_sqliteCrashTests000000000000000000";
const dir = mkdtempSync(join(tmpdir(), "kallima-sqlite-crash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const running: QueueProcess[] = [];
afterEach(async () => {
  for (const child of running.splice(0)) await child.kill();
});

function files() {
  const name = randomUUID();
  return { queuePath: join(dir, `${name}.db`), log: join(dir, `${name}.log`) };
}

async function start(options: ProcessOptions) {
  const child = await startQueueProcess(options);
  running.push(child);
  return child;
}

async function signed(data: Record<string, unknown> = {}, id = `evt_${randomUUID()}`) {
  const payload = createEvent("job.completed", { id: "job_1", ...data }, { id });
  const { headers } = await signPayload({ secret: SECRET, payload: JSON.stringify(payload) });
  return { id, headers: { ...headers }, body: JSON.stringify(payload) };
}

describe("sqliteQueue across processes and crashes", () => {
  it("kill -9 of the process right after its 202: the event is processed once after a restart", async () => {
    const paths = files();
    const receiver = await start({ role: "receiver", secret: SECRET, ...paths });
    const delivery = await signed();
    const answer = await receiver.send(delivery.headers, delivery.body);
    expect([answer.status, JSON.parse(answer.body).outcome]).toEqual([202, "queued"]);
    await receiver.kill();
    expect(readRuns(paths.log)).toEqual([]);

    const restarted = await start({ role: "both", secret: SECRET, ...paths });
    await eventually(() => readRuns(paths.log).length === 1);
    const repeat = await restarted.send(delivery.headers, delivery.body);
    expect([repeat.status, JSON.parse(repeat.body).outcome]).toEqual([200, "duplicate"]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(readRuns(paths.log).map((run) => [run.eventId, run.attempt])).toEqual([
      [delivery.id, 1],
    ]);
  }, 30_000);

  it("kill -9 of a worker mid-handler: the next worker runs it as attempt 2, once", async () => {
    const paths = files();
    const receiver = await start({ role: "receiver", secret: SECRET, ...paths });
    const worker = await start({ role: "worker", secret: SECRET, leaseSeconds: 1, ...paths });
    const delivery = await signed({ mode: "crash" });
    expect((await receiver.send(delivery.headers, delivery.body)).status).toBe(202);
    expect(await worker.waitForExit()).toBe("SIGKILL");
    await start({ role: "worker", secret: SECRET, leaseSeconds: 1, ...paths });
    await eventually(() => readRuns(paths.log).length === 2);
    const queue = sqliteQueue({ path: paths.queuePath });
    await eventually(async () => (await queue.stats()).done === 1);
    await queue.close();
    const runs = readRuns(paths.log);
    expect(runs.map((run) => run.attempt)).toEqual([1, 2]);
    expect(runs[0]?.pid).not.toBe(runs[1]?.pid);
  }, 30_000);

  it("2 receivers and 2 workers, 150 events each delivered 1–3 times: each handled exactly once", async () => {
    const paths = files();
    const receivers = [
      await start({ role: "receiver", secret: SECRET, ...paths }),
      await start({ role: "receiver", secret: SECRET, ...paths }),
    ];
    await start({ role: "worker", secret: SECRET, ...paths });
    await start({ role: "worker", secret: SECRET, ...paths });
    const deliveries = await Promise.all(Array.from({ length: 150 }, () => signed()));
    const sends = deliveries.flatMap((delivery, index) =>
      Array.from({ length: 1 + (index % 3) }, (_, copy) =>
        receivers[(index + copy) % 2]!.send(delivery.headers, delivery.body),
      ),
    );
    const answers = await Promise.all(sends);
    expect(answers.every((answer) => answer.status === 202 || answer.status === 200)).toBe(true);
    expect(answers.filter((answer) => answer.status === 202)).toHaveLength(150);
    await eventually(() => readRuns(paths.log).length >= 150, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const ids = readRuns(paths.log).map((run) => run.eventId);
    expect(ids).toHaveLength(150);
    expect(new Set(ids)).toEqual(new Set(deliveries.map((delivery) => delivery.id)));
  }, 60_000);

  it("fails twice then done on attempt 3; a poison event is dead-lettered, then replayed once after a fix", async () => {
    const paths = files();
    const receiver = await start({ role: "receiver", secret: SECRET, ...paths });
    const worker = await start({ role: "worker", secret: SECRET, ...paths });
    const flaky = await signed({ mode: "fail-twice" });
    const poison = await signed({ mode: "poison" });
    await receiver.send(flaky.headers, flaky.body);
    await receiver.send(poison.headers, poison.body);
    const queue = sqliteQueue({ path: paths.queuePath });
    await eventually(async () => {
      const stats = await queue.stats();
      return stats.done === 1 && stats.dead === 1;
    });
    const attemptsOf = (id: string) =>
      readRuns(paths.log)
        .filter((run) => run.eventId === id)
        .map((run) => run.attempt);
    expect(attemptsOf(flaky.id)).toEqual([1, 2, 3]);
    expect(attemptsOf(poison.id)).toEqual([1, 2, 3]);
    const [letter] = await queue.failed();
    expect(letter).toMatchObject({ eventId: poison.id, attempts: 3 });
    expect(letter?.lastError).toContain("poison event");

    await worker.kill();
    await start({ role: "worker", secret: SECRET, fixed: true, ...paths });
    expect(await queue.replay(poison.id)).toBe(true);
    await eventually(
      async () => (await queue.stats()).dead === 0 && attemptsOf(poison.id).length === 4,
    );
    await eventually(async () => (await queue.stats()).done === 2);
    expect(attemptsOf(poison.id)).toEqual([1, 2, 3, 1]);
    await queue.close();
  }, 30_000);
});
