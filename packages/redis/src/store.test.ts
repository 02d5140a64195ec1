import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  DEFAULT_DONE_TTL_SECONDS,
  DEFAULT_LEASE_SECONDS,
  WebhookConfigError,
  type WebhookHandlerOptions,
} from "@kallima/webhooks";
import { runConformanceSuite } from "@kallima/webhooks-conformance";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_KEY_PREFIX, type RedisStoreClient, redisStore } from "./index.js";
import { CLIENT_KINDS, connectClient, type TestClient } from "./test-support/clients.js";
import { startNodeApp } from "./test-support/http.js";
import { RedisServer, redisServerAvailable } from "./test-support/redis-server.js";

const available = redisServerAvailable();

describe.skipIf(!available)("redisStore against a real redis-server", () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(() => server?.stop());

  describe.each(CLIENT_KINDS)("with a %s client", (kind) => {
    let redis: TestClient;
    beforeAll(async () => {
      redis = await connectClient(kind, server.url);
    });
    afterAll(() => redis?.close());

    const prefix = () => `test:${kind}:${randomUUID()}:`;

    it("claims once, answers in_progress while leased, then done after markDone", async () => {
      const keyPrefix = prefix();
      const store = redisStore(redis.client, { keyPrefix, leaseSeconds: 30, ttlSeconds: 100 });
      expect(await store.claim("evt_1")).toBe("claimed");
      expect(await redis.get(`${keyPrefix}evt_1`)).toMatch(/^lease:/);
      const leaseMs = await redis.pttl(`${keyPrefix}evt_1`);
      expect(leaseMs).toBeGreaterThan(29_000);
      expect(leaseMs).toBeLessThanOrEqual(30_000);
      expect(await store.claim("evt_1")).toBe("in_progress");
      await store.markDone("evt_1");
      expect(await redis.get(`${keyPrefix}evt_1`)).toBe("done");
      const ttlMs = await redis.pttl(`${keyPrefix}evt_1`);
      expect(ttlMs).toBeGreaterThan(99_000);
      expect(ttlMs).toBeLessThanOrEqual(100_000);
      expect(await store.claim("evt_1")).toBe("done");
      expect(await store.claim("evt_2")).toBe("claimed");
    });

    it("defaults to a 60 s lease, a 72 h memory and the kallima:webhooks: prefix", async () => {
      const store = redisStore(redis.client);
      const id = `evt_${randomUUID()}`;
      expect(await store.claim(id)).toBe("claimed");
      expect(await redis.pttl(`${DEFAULT_KEY_PREFIX}${id}`)).toBeGreaterThan(
        (DEFAULT_LEASE_SECONDS - 5) * 1000,
      );
      await store.markDone(id);
      const ttlMs = await redis.pttl(`${DEFAULT_KEY_PREFIX}${id}`);
      expect(DEFAULT_DONE_TTL_SECONDS).toBe(72 * 3600);
      expect(ttlMs).toBeGreaterThan((DEFAULT_DONE_TTL_SECONDS - 5) * 1000);
      expect(ttlMs).toBeLessThanOrEqual(DEFAULT_DONE_TTL_SECONDS * 1000);
    });

    it("release frees its own claim, so the retry claims again", async () => {
      const store = redisStore(redis.client, { keyPrefix: prefix() });
      expect(await store.claim("evt_1")).toBe("claimed");
      await store.release("evt_1");
      expect(await store.claim("evt_1")).toBe("claimed");
    });

    it("release never deletes a done marker", async () => {
      const keyPrefix = prefix();
      const store = redisStore(redis.client, { keyPrefix });
      expect(await store.claim("evt_1")).toBe("claimed");
      await store.markDone("evt_1");
      await store.release("evt_1");
      expect(await store.claim("evt_1")).toBe("done");
      // Another instance's markDone while this one holds the lease: the release must not undo it.
      const other = redisStore(redis.client, { keyPrefix });
      expect(await store.claim("evt_2")).toBe("claimed");
      await other.markDone("evt_2");
      await store.release("evt_2");
      expect(await store.claim("evt_2")).toBe("done");
    });

    it("release never deletes another instance's claim", async () => {
      const keyPrefix = prefix();
      const first = redisStore(redis.client, { keyPrefix, leaseSeconds: 0.3 });
      const second = redisStore(redis.client, { keyPrefix, leaseSeconds: 30 });
      expect(await first.claim("evt_1")).toBe("claimed");
      // An instance that holds no claim on the event has nothing to release.
      await second.release("evt_1");
      expect(await second.claim("evt_1")).toBe("in_progress");
      // The first lease lapses and the second instance takes over; the first one's late release
      // (its handler failed after all) must leave the second one's lease in place.
      await sleep(400);
      expect(await second.claim("evt_1")).toBe("claimed");
      await first.release("evt_1");
      expect(await first.claim("evt_1")).toBe("in_progress");
      expect(await redis.pttl(`${keyPrefix}evt_1`)).toBeGreaterThan(25_000);
    });

    it("lets a lapsed lease (a crashed claimant) be claimed again", async () => {
      const store = redisStore(redis.client, { keyPrefix: prefix(), leaseSeconds: 0.2 });
      expect(await store.claim("evt_1")).toBe("claimed");
      expect(await store.claim("evt_1")).toBe("in_progress");
      await sleep(300);
      expect(await store.claim("evt_1")).toBe("claimed");
    });

    it("keeps receivers with different prefixes apart", async () => {
      const one = redisStore(redis.client, { keyPrefix: prefix() });
      const two = redisStore(redis.client, { keyPrefix: prefix() });
      expect(await one.claim("evt_1")).toBe("claimed");
      expect(await two.claim("evt_1")).toBe("claimed");
    });

    it("lets exactly one of many concurrent claims from several instances win", async () => {
      const keyPrefix = prefix();
      const stores = [1, 2, 3].map(() => redisStore(redis.client, { keyPrefix }));
      const answers = await Promise.all(
        Array.from({ length: 60 }, (_, i) => stores[i % 3]!.claim("evt_1")),
      );
      expect(answers.filter((answer) => answer === "claimed")).toHaveLength(1);
      expect(answers.filter((answer) => answer === "in_progress")).toHaveLength(59);
    });

    it("loads its scripts again after Redis forgot them (SCRIPT FLUSH, restart)", async () => {
      const store = redisStore(redis.client, { keyPrefix: prefix() });
      expect(await store.claim("evt_1")).toBe("claimed");
      await redis.scriptFlush();
      expect(await store.claim("evt_1")).toBe("in_progress");
      await redis.scriptFlush();
      await store.markDone("evt_1");
      await redis.scriptFlush();
      expect(await store.claim("evt_1")).toBe("done");
    });

    describe("conformance over node:http", () => {
      runConformanceSuite(`redisStore (${kind}) on core handleNodeRequest`, {
        setup: (options) => startNodeApp(options as WebhookHandlerOptions),
        store: () => redisStore(redis.client, { keyPrefix: prefix() }),
      });
    });
  });
});

describe("redisStore options", () => {
  const client = {
    evalsha: () => Promise.resolve("claimed"),
    eval: () => Promise.resolve("claimed"),
  } satisfies RedisStoreClient;

  it.each([
    ["leaseSeconds", { leaseSeconds: 0 }],
    ["ttlSeconds", { ttlSeconds: -1 }],
    ["timeoutMs", { timeoutMs: Number.NaN }],
    ["keyPrefix", { keyPrefix: 42 as unknown as string }],
  ])("rejects an invalid %s at construction", (_, options) => {
    expect(() => redisStore(client, options)).toThrow(WebhookConfigError);
  });

  it("rejects something that is not a Redis client, naming the clients it takes", () => {
    for (const notAClient of [null, {}, { get: () => null }]) {
      const attempt = () => redisStore(notAClient as unknown as RedisStoreClient);
      expect(attempt).toThrow(WebhookConfigError);
      expect(attempt).toThrow(/ioredis or node-redis/);
    }
  });
});
