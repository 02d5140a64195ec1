import { randomUUID } from "node:crypto";
import { runQueueDriverSuite } from "@kallima/webhooks-conformance/queue-driver";
import { RedisServer, redisServerAvailable } from "@kallima/webhooks-conformance/redis-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bullmqQueue, jobIdOf } from "./index.js";

const available = redisServerAvailable();
let server: RedisServer;
beforeAll(async () => {
  if (available) server = await RedisServer.start();
});
afterAll(async () => {
  await server?.remove();
});

describe.runIf(available)("bullmqQueue", () => {
  runQueueDriverSuite("bullmqQueue", {
    create: () =>
      bullmqQueue({
        connection: { host: "127.0.0.1", port: server.port },
        name: `suite-${randomUUID()}`,
        stalledIntervalMs: 500,
        lockDurationMs: 1_000,
      }),
  });

  it("maps event ids BullMQ would refuse one-to-one, and keeps them as job ids", async () => {
    expect(jobIdOf("evt_01J9")).toBe("evt_01J9");
    expect(jobIdOf("a:b")).toBe("%a%3Ab");
    expect(jobIdOf("123")).toBe("%123");
    expect(jobIdOf("50%")).toBe("%50%25");
    const queue = bullmqQueue({
      connection: { host: "127.0.0.1", port: server.port },
      name: `ids-${randomUUID()}`,
    });
    for (const eventId of ["a:b", "123", "evt_plain"]) {
      const delivery = {
        eventId,
        eventType: "job.completed",
        rawBody: "{}",
        headers: {},
        receivedAt: Date.now(),
      };
      expect(await queue.enqueue(delivery)).toBe("queued");
      expect(await queue.enqueue(delivery)).toBe("duplicate");
    }
    expect(await queue.bullmq.getJob("evt_plain")).toBeTruthy();
    await queue.close();
  });
});
