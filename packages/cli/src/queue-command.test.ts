import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKallimaWorker, type WebhookQueue } from "@kallima/webhooks";
import { bullmqQueue } from "@kallima/webhooks-bullmq";
import { eventually, queuedDelivery } from "@kallima/webhooks-conformance/queue-driver";
import { RedisServer, redisServerAvailable } from "@kallima/webhooks-conformance/redis-server";
import { sqliteQueue } from "@kallima/webhooks-sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./index.js";
import { parseSince, redisConnectionOf } from "./queue-command.js";
import { captureIO } from "./test-support.js";

const dir = mkdtempSync(join(tmpdir(), "kallima-cli-queue-"));
const available = redisServerAvailable();
let server: RedisServer | undefined;
beforeAll(async () => {
  if (available) server = await RedisServer.start();
});
afterAll(async () => {
  await server?.remove();
  rmSync(dir, { recursive: true, force: true });
});

async function cli(args: string[]) {
  const io = captureIO();
  const code = await runCli(args, io);
  return { code, out: io.out(), err: io.err() };
}

interface Driver {
  name: string;
  create(): { queue: WebhookQueue; flags: string[] };
}

const drivers: Driver[] = [
  {
    name: "sqlite",
    create() {
      const path = join(dir, `${randomUUID()}.db`);
      return { queue: sqliteQueue({ path, pollMs: 20 }), flags: ["--sqlite", path] };
    },
  },
];
if (available) {
  drivers.push({
    name: "bullmq",
    create() {
      const name = `cli-${randomUUID()}`;
      return {
        queue: bullmqQueue({ connection: { host: "127.0.0.1", port: server!.port }, name }),
        flags: ["--redis", `redis://127.0.0.1:${server!.port}`, "--name", name],
      };
    },
  });
}

describe.each(drivers)("kallima-webhooks queue on $name", (driver) => {
  it("stats, failed (with --type and --since), replay <id> and replay --failed", async () => {
    const { queue, flags } = driver.create();
    const poison = queuedDelivery("job.failed");
    const other = queuedDelivery("job.completed");
    const fine = queuedDelivery("webhook.test");
    let fixed = false;
    const handled: string[] = [];
    const fail = (event: { id: string }) => {
      if (!fixed) throw new Error(`broken handler for ${event.id}`);
      handled.push(event.id);
    };
    const worker = createKallimaWorker({
      queue,
      attempts: 1,
      logger: false,
      shutdownSignals: false,
      on: { "job.failed": fail, "job.completed": fail, "webhook.test": () => {} },
    });
    for (const delivery of [poison, other, fine]) await queue.enqueue(delivery);
    await eventually(async () => (await queue.stats()).dead === 2, 15_000);

    const stats = await cli(["queue", "stats", ...flags, "--json"]);
    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.out)).toMatchObject({ done: 1, dead: 2, waiting: 0 });
    expect((await cli(["queue", "stats", ...flags])).out).toMatch(/^dead\s+2$/m);

    const failed = await cli(["queue", "failed", ...flags]);
    expect(failed.code).toBe(0);
    expect(failed.out).toContain(poison.eventId);
    expect(failed.out).toContain(`broken handler for ${poison.eventId}`);
    const typed = await cli(["queue", "failed", ...flags, "--type", "job.failed", "--json"]);
    expect(JSON.parse(typed.out).map((letter: { eventId: string }) => letter.eventId)).toEqual([
      poison.eventId,
    ]);
    const future = await cli(["queue", "failed", ...flags, "--since", "2999-01-01T00:00:00Z"]);
    expect(future.out).toBe("no dead letters\n");

    fixed = true;
    const one = await cli(["queue", "replay", poison.eventId, ...flags]);
    expect([one.code, one.out]).toEqual([0, `replayed ${poison.eventId}\n`]);
    await eventually(() => handled.includes(poison.eventId), 15_000);
    const again = await cli(["queue", "replay", `evt_missing_${randomUUID()}`, ...flags]);
    expect(again.code).toBe(1);
    const all = await cli(["queue", "replay", "--failed", "--since", "1h", ...flags, "--json"]);
    expect(JSON.parse(all.out)).toEqual({ replayed: [other.eventId], skipped: [] });
    await eventually(async () => (await queue.stats()).done === 3, 15_000);
    expect(handled.sort()).toEqual([poison.eventId, other.eventId].sort());
    await worker.close();
    await queue.close();
  }, 40_000);
});

describe("kallima-webhooks queue usage", () => {
  it("needs exactly one of --sqlite and --redis, and an id or --failed", async () => {
    const none = await cli(["queue", "stats"]);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/--sqlite <file>.*--redis <url>/);
    const both = await cli(["queue", "replay", "--sqlite", join(dir, "x.db")]);
    expect([both.code, both.err]).toEqual([2, expect.stringMatching(/event id, or --failed/)]);
    const bad = await cli(["queue", "stats", "--redis", "http://x"]);
    expect(bad.code).toBe(2);
  });

  it("reads --since as a time or an age, and Redis URLs", () => {
    expect(parseSince("2h", 10_000_000)).toBe(10_000_000 - 7_200_000);
    expect(parseSince("2026-01-01T00:00:00Z")).toBe(Date.UTC(2026, 0, 1));
    expect(() => parseSince("yesterday")).toThrow(/--since/);
    expect(redisConnectionOf("rediss://u:p%40ss@host:6380/2")).toMatchObject({
      host: "host",
      port: 6380,
      username: "u",
      password: "p@ss",
      db: 2,
      tls: {},
    });
  });
});
