// Redis failing under a running receiver: stopped, restarted, too slow. The receiver must fail
// closed (503 + Retry-After, no handler run) unless told to process anyway, and recover by itself.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { IdempotencyStoreError, type KallimaWebhookError } from "@kallima/webhooks";
import {
  CONFORMANCE_SECRET,
  type ConformanceApp,
  type ConformanceResponse,
  eventBody,
  signDelivery,
} from "@kallima/webhooks-conformance";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RedisStoreTimeoutError, redisStore } from "./index.js";
import { CLIENT_KINDS, connectClient, type TestClient } from "./test-support/clients.js";
import { startNodeApp } from "./test-support/http.js";
import { RedisServer, redisServerAvailable } from "./test-support/redis-server.js";

const available = redisServerAvailable();

const outcome = (response: ConformanceResponse): unknown =>
  (JSON.parse(response.body) as { outcome?: unknown }).outcome;
const errorCode = (response: ConformanceResponse): unknown =>
  (JSON.parse(response.body) as { error?: { code?: unknown } }).error?.code;

const completed = (id: string) =>
  eventBody("job.completed", { id: "job_1", status: "completed" }, id);

describe.skipIf(!available).each(CLIENT_KINDS)("Redis outages with a %s client", (kind) => {
  let server: RedisServer;
  let redis: TestClient;
  const apps: ConformanceApp[] = [];

  beforeAll(async () => {
    server = await RedisServer.start();
    redis = await connectClient(kind, server.url);
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close?.();
    // Every test leaves Redis running, and the shared client connected, for the next one.
    await server.start();
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await redis.command(["PING"]);
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(50);
      }
    }
  });
  afterAll(async () => {
    await redis?.close();
    await server?.stop();
  });

  async function receiver(
    options: { onStoreError?: "reject" | "process"; timeoutMs?: number } = {},
  ) {
    const runs: string[] = [];
    const errors: { error: KallimaWebhookError; status: number }[] = [];
    const app = await startNodeApp({
      secret: CONFORMANCE_SECRET,
      idempotency: {
        store: redisStore(redis.client, {
          keyPrefix: `outage:${randomUUID()}:`,
          ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
        }),
        ...(options.onStoreError ? { onStoreError: options.onStoreError } : {}),
      },
      on: { "job.completed": (event) => void runs.push(event.id) },
      onError: (error, context) => void errors.push({ error, status: context.status }),
    });
    apps.push(app);
    return { app, runs, errors };
  }

  // Deliveries until one is not a 503, as the sender's retries would; each 503 is checked too.
  async function retryUntilAccepted(app: ConformanceApp, body: string) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const response = await app.send(signDelivery(body));
      if (response.status !== 503 || Date.now() > deadline) return response;
      expect(errorCode(response)).toBe("idempotency_store_unavailable");
      await sleep(100);
    }
  }

  it("answers 503 with Retry-After and runs nothing while Redis is down; recovers when it is back", async () => {
    const { app, runs, errors } = await receiver();
    const before = `evt_${randomUUID()}`;
    expect((await app.send(signDelivery(completed(before)))).status).toBe(200);

    await server.stop();
    const during = `evt_${randomUUID()}`;
    for (let attempt = 0; attempt < 3; attempt++) {
      const started = Date.now();
      const response = await app.send(signDelivery(completed(during)));
      expect(response.status).toBe(503);
      expect(Number(response.headers["retry-after"])).toBeGreaterThan(0);
      expect(errorCode(response)).toBe("idempotency_store_unavailable");
      // The recommended client options fail a command at once rather than queue it: the
      // client's own error answers, well before the store's timeoutMs would.
      expect(Date.now() - started).toBeLessThan(5000);
    }
    expect(runs).toEqual([before]);
    expect(errors).toHaveLength(3);
    for (const { error, status } of errors) {
      expect(error).toBeInstanceOf(IdempotencyStoreError);
      expect(error.cause).not.toBeInstanceOf(RedisStoreTimeoutError);
      expect(status).toBe(503);
    }

    await server.start();
    const retried = await retryUntilAccepted(app, completed(during));
    expect([retried.status, outcome(retried)]).toEqual([200, "handled"]);
    expect(runs).toEqual([before, during]);
    const repeat = await app.send(signDelivery(completed(during)));
    expect([repeat.status, outcome(repeat)]).toEqual([200, "duplicate"]);
    expect(runs).toEqual([before, during]);
  }, 30_000);

  it('runs the handler anyway with onStoreError: "process", and reports the fault', async () => {
    const { app, runs, errors } = await receiver({ onStoreError: "process" });
    await server.stop();
    const id = `evt_${randomUUID()}`;
    const response = await app.send(signDelivery(completed(id)));
    expect([response.status, outcome(response)]).toEqual([200, "handled"]);
    expect(runs).toEqual([id]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.error).toBeInstanceOf(IdempotencyStoreError);
  }, 30_000);

  // CLIENT PAUSE holds every client's commands: Redis is up but silent, as when overloaded.
  // The claim that timed out runs when the pause ends (after ioredis's own commandTimeout in the
  // test client options, so its answer is lost there), and the release the store queued behind
  // it must free the lease, so that the retry is not kept waiting for 60 s.
  async function pausedClaim({ coldScripts }: { coldScripts: boolean }) {
    const { app, runs, errors } = await receiver({ timeoutMs: 200 });
    const control = await connectClient(kind, server.url);
    try {
      // A first delivery loads the scripts; a flush then makes the paused claim meet NOSCRIPT.
      expect((await app.send(signDelivery(completed(`evt_${randomUUID()}`)))).status).toBe(200);
      runs.length = 0;
      if (coldScripts) await control.scriptFlush();
      await control.command(["CLIENT", "PAUSE", "1200", "ALL"]);
      const id = `evt_${randomUUID()}`;
      const started = Date.now();
      const response = await app.send(signDelivery(completed(id)));
      expect(response.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(1100);
      expect(errors[0]?.error.cause).toBeInstanceOf(RedisStoreTimeoutError);
      expect(runs).toEqual([]);

      await sleep(1400);
      const retried = await retryUntilAccepted(app, completed(id));
      expect([retried.status, outcome(retried)]).toEqual([200, "handled"]);
      expect(runs).toEqual([id]);
    } finally {
      await control.close();
    }
  }

  it("answers 503 when Redis does not answer within timeoutMs, and the retry runs once", async () => {
    await pausedClaim({ coldScripts: false });
  }, 30_000);

  it("frees a timed-out claim that met a cold script cache once Redis answered", async () => {
    await pausedClaim({ coldScripts: true });
  }, 30_000);

  it("answers 200 when marking done fails after the handler succeeded, and reports it", async () => {
    const runs: string[] = [];
    const errors: { error: KallimaWebhookError; status: number }[] = [];
    const app = await startNodeApp({
      secret: CONFORMANCE_SECRET,
      idempotency: { store: redisStore(redis.client, { keyPrefix: `outage:${randomUUID()}:` }) },
      on: {
        "job.completed": async (event) => {
          runs.push(event.id);
          // Redis dies between the claim and the mark.
          await server.stop();
        },
      },
      onError: (error, context) => void errors.push({ error, status: context.status }),
    });
    apps.push(app);
    const id = `evt_${randomUUID()}`;
    const response = await app.send(signDelivery(completed(id)));
    expect([response.status, outcome(response)]).toEqual([200, "handled"]);
    expect(runs).toEqual([id]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.error).toBeInstanceOf(IdempotencyStoreError);
    expect(errors[0]?.error.message).toContain("markDone");
    expect(errors[0]?.status).toBe(200);
  }, 30_000);
});
