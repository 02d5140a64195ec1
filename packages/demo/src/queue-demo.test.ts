import { redisServerAvailable } from "@kallima/webhooks-conformance/redis-server";
import { afterEach, describe, expect, it } from "vitest";
import { painter } from "./output.js";
import { runQueueDemo } from "./queue-demo.js";

const hasRedis = redisServerAvailable();
const savedBinary = process.env.REDIS_SERVER_BIN;

afterEach(() => {
  if (savedBinary === undefined) delete process.env.REDIS_SERVER_BIN;
  else process.env.REDIS_SERVER_BIN = savedBinary;
});

async function run(): Promise<{ ok: boolean; output: string }> {
  let output = "";
  const out = {
    write: (chunk: string) => {
      output += chunk;
    },
  };
  const ok = await runQueueDemo(out, painter(false));
  return { ok, output };
}

/** The lines of the section whose heading starts with `heading`, up to the next section. */
function section(output: string, heading: string): string {
  const start = output.indexOf(`\nQueue mode on ${heading}`);
  expect(start, output).toBeGreaterThanOrEqual(0);
  const next = output.indexOf("\nQueue mode on ", start + 1);
  return output.slice(start, next === -1 ? undefined : next);
}

/** Every step of the scenario, passed, whichever the driver. */
function expectScenario(lines: string, cli: string) {
  expect(lines).not.toContain("✗");
  expect(lines).toContain("✓ a forged delivery: 401, nothing queued");
  expect(lines).toMatch(/✓ job\.completed acknowledged 202 queued in \d+\.\d ms/);
  expect(lines).toContain("✓ its repeat: 200 duplicate, no second job");
  expect(lines).toContain("✓ the worker ran it (attempt 1)");
  expect(lines).toContain("✓ retried with backoff, done on attempt 3");
  expect(lines).toContain("✓ dead-lettered after 3 attempts");
  expect(lines).toContain(`$ kallima-webhooks queue failed ${cli}`);
  expect(lines).toContain("evt_queue_demo_poison");
  expect(lines).toContain(`$ kallima-webhooks queue replay --failed ${cli} → `);
  expect(lines).toContain("✓ after the fix, replayed and processed once");
  expect(lines).toContain("✓ queue: 3 done, 0 dead");
}

describe("the queue section of the demo", () => {
  it.skipIf(!hasRedis)(
    "runs the scenario on SQLite, then on BullMQ against a redis-server it starts and stops",
    async () => {
      const { ok, output } = await run();
      expectScenario(section(output, "the embedded driver (SQLite file "), "--sqlite …");
      const redis = section(output, "BullMQ (a throwaway redis-server at redis://127.0.0.1:");
      const url = /redis:\/\/127\.0\.0\.1:(\d+)/.exec(redis)?.[0];
      expectScenario(redis, `--redis ${url}`);
      expect(ok).toBe(true);
      // Stopped afterwards: nothing listens on its port any more.
      const { createConnection } = await import("node:net");
      const port = Number(new URL(url!).port);
      const refused = await new Promise<boolean>((resolve) => {
        const socket = createConnection({ host: "127.0.0.1", port });
        socket.once("connect", () => {
          socket.destroy();
          resolve(false);
        });
        socket.once("error", () => resolve(true));
      });
      expect(refused).toBe(true);
    },
  );

  it("without a redis-server, says the Redis part was skipped and why, and still passes", async () => {
    process.env.REDIS_SERVER_BIN = "/nonexistent/redis-server";
    const { ok, output } = await run();
    expectScenario(section(output, "the embedded driver (SQLite file "), "--sqlite …");
    expect(output).toMatch(
      /\nQueue mode on BullMQ\/Redis: skipped, cannot run "\/nonexistent\/redis-server" \(.*ENOENT.*\); install redis-server \(or set REDIS_SERVER_BIN\) to see it\.\n$/,
    );
    expect(output).not.toContain("BullMQ (a throwaway");
    expect(ok).toBe(true);
  });
});
