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
import { RedisServer, redisServerAvailable } from "@kallima/webhooks-conformance/redis-server";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RedisStoreTimeoutError, redisStore } from "./index.js";
import {
  CLIENT_KINDS,
  connectClient,
  hasCommandTimeout,
  type TestClient,
  timesOutSentCommands,
} from "./test-support/clients.js";
import { startNodeApp } from "./test-support/http.js";

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
    options: {
      onStoreError?: "reject" | "process";
      timeoutMs?: number;
      client?: TestClient;
      keyPrefix?: string;
    } = {},
  ) {
    const runs: string[] = [];
    const errors: { error: KallimaWebhookError; status: number }[] = [];
    const app = await startNodeApp({
      secret: CONFORMANCE_SECRET,
      idempotency: {
        store: redisStore((options.client ?? redis).client, {
          keyPrefix: options.keyPrefix ?? `outage:${randomUUID()}:`,
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

  // Waits until `client` answers a PING: after a pause, every command it had sent before has run.
  async function answering(client: TestClient) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await client.command(["PING"]);
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(50);
      }
    }
  }

  // CLIENT PAUSE holds every client's commands: Redis is up but silent, as when overloaded.
  // The claim that timed out runs when the pause ends, and the cleanup the store sent after it
  // must void it, so that the retry is not kept waiting for a whole lease (60 s).
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

  // The orphan lease: the client's own commandTimeout can fire before the store's timeoutMs,
  // and then the claim fails with the client's error, not the store's. Whichever fires first,
  // the claim still runs once Redis resumes, and must not hold the event for a lease.
  if (hasCommandTimeout(kind)) {
    const TIMEOUT_MS = 300;
    const PAUSE_MS = 1500;
    it.each([
      ["below", 150],
      ["equal to", TIMEOUT_MS],
      ["above", 600],
    ])(
      "leaves no lease behind a claim paused past a client commandTimeout %s timeoutMs",
      async (_, commandTimeoutMs) => {
        const client = await connectClient(kind, server.url, { commandTimeoutMs });
        const control = await connectClient(kind, server.url);
        try {
          const keyPrefix = `orphan:${randomUUID()}:`;
          const { app, runs, errors } = await receiver({
            client,
            keyPrefix,
            timeoutMs: TIMEOUT_MS,
          });
          // A first delivery loads the scripts, so that the paused claim is a single EVALSHA.
          expect((await app.send(signDelivery(completed(`evt_${randomUUID()}`)))).status).toBe(200);
          runs.length = 0;

          await control.command(["CLIENT", "PAUSE", String(PAUSE_MS), "ALL"]);
          const id = `evt_${randomUUID()}`;
          const started = Date.now();
          const response = await app.send(signDelivery(completed(id)));
          // A store fault, answered while Redis is still paused.
          expect(response.status).toBe(503);
          expect(errorCode(response)).toBe("idempotency_store_unavailable");
          expect(Number(response.headers["retry-after"])).toBeGreaterThan(0);
          expect(Date.now() - started).toBeLessThan(PAUSE_MS - 300);
          expect(runs).toEqual([]);
          expect(errors).toHaveLength(1);
          const cause = errors[0]?.error.cause;
          expect(errors[0]?.error).toBeInstanceOf(IdempotencyStoreError);
          // Which timeout answered: the client's below timeoutMs, the store's above it (equal:
          // either). node-redis does not time out a command it has sent: the store answers.
          if (!timesOutSentCommands(kind) || commandTimeoutMs > TIMEOUT_MS) {
            expect(cause).toBeInstanceOf(RedisStoreTimeoutError);
          } else if (commandTimeoutMs < TIMEOUT_MS) {
            expect(cause).not.toBeInstanceOf(RedisStoreTimeoutError);
          }

          // Once the store's connection answers again, the claim and its cleanup have both run.
          await answering(client);
          expect(Date.now() - started).toBeGreaterThanOrEqual(PAUSE_MS - 100);
          // Nothing holds the event: no lease, only the tombstone of the failed claim's token,
          // which lapses after one lease.
          expect(await control.get(`${keyPrefix}${id}`)).toBeNull();
          const tombstones = await control.keys(`${keyPrefix}${id}:void:*`);
          expect(tombstones).toHaveLength(1);
          expect(await control.get(tombstones[0]!)).toBe("void");
          expect(await control.pttl(tombstones[0]!)).toBeLessThanOrEqual(60_000);

          // The sender's retry is claimed at once (not 409 for a lease) and runs the handler.
          const retried = await app.send(signDelivery(completed(id)));
          expect([retried.status, outcome(retried)]).toEqual([200, "handled"]);
          expect(runs).toEqual([id]);
          expect(await control.get(`${keyPrefix}${id}`)).toBe("done");
        } finally {
          await client.close();
          await control.close();
        }
      },
      30_000,
    );
  }

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
