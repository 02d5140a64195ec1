import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type ClaimResult,
  DEFAULT_DONE_TTL_SECONDS,
  DEFAULT_LEASE_SECONDS,
  type IdempotencyLease,
  WebhookConfigError,
  type WebhookHandlerOptions,
} from "@kallima/webhooks";
import { runConformanceSuite } from "@kallima/webhooks-conformance";
import { RedisServer, redisServerAvailable } from "@kallima/webhooks-conformance/redis-server";
import { runIdempotencyStoreSuite } from "@kallima/webhooks-conformance/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_KEY_PREFIX, type RedisStoreClient, redisStore } from "./index.js";
import { tombstoneKey } from "./keys.js";
import { CLIENT_KINDS, connectClient, type TestClient } from "./test-support/clients.js";
import { type Fault, faultyClient } from "./test-support/faulty-client.js";
import { startNodeApp } from "./test-support/http.js";

const available = redisServerAvailable();

function leaseOf(result: ClaimResult): IdempotencyLease {
  if (result.status !== "claimed") throw new Error(`expected a claim, got ${result.status}`);
  return result.lease;
}

/** Polls `read` until it gives `expected`, for effects that land in Redis after a call returned. */
async function eventually<T>(read: () => Promise<T>, expected: T, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (Object.is(value, expected) || Date.now() > deadline) {
      expect(value).toBe(expected);
      return;
    }
    await sleep(25);
  }
}

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

    // The contract every store keeps (lease tokens, renewal, lapse), with real time and Redis.
    runIdempotencyStoreSuite(`redisStore (${kind})`, {
      create: ({ leaseSeconds }) => redisStore(redis.client, { keyPrefix: prefix(), leaseSeconds }),
    });

    it("claims once with a lease in Redis, answers in_progress while leased, then done", async () => {
      const keyPrefix = prefix();
      const store = redisStore(redis.client, { keyPrefix, leaseSeconds: 30, ttlSeconds: 100 });
      const lease = leaseOf(await store.claim("evt_1"));
      expect(lease.key).toBe("evt_1");
      expect(await redis.get(`${keyPrefix}evt_1`)).toBe(`lease:${lease.token}`);
      const leaseMs = await redis.pttl(`${keyPrefix}evt_1`);
      expect(leaseMs).toBeGreaterThan(29_000);
      expect(leaseMs).toBeLessThanOrEqual(30_000);
      expect(await store.claim("evt_1")).toEqual({ status: "in_progress" });
      await store.markDone(lease);
      expect(await redis.get(`${keyPrefix}evt_1`)).toBe("done");
      const ttlMs = await redis.pttl(`${keyPrefix}evt_1`);
      expect(ttlMs).toBeGreaterThan(99_000);
      expect(ttlMs).toBeLessThanOrEqual(100_000);
      expect(await store.claim("evt_1")).toEqual({ status: "done" });
      expect((await store.claim("evt_2")).status).toBe("claimed");
      // A claim that went through leaves no tombstone: only failed claims do.
      expect(await redis.keys(`${keyPrefix}evt_1:void:*`)).toEqual([]);
    });

    it("defaults to a 60 s lease, a 72 h memory and the kallima:webhooks: prefix", async () => {
      const store = redisStore(redis.client);
      expect(store.leaseSeconds).toBe(DEFAULT_LEASE_SECONDS);
      const id = `evt_${randomUUID()}`;
      const lease = leaseOf(await store.claim(id));
      expect(await redis.pttl(`${DEFAULT_KEY_PREFIX}${id}`)).toBeGreaterThan(
        (DEFAULT_LEASE_SECONDS - 5) * 1000,
      );
      await store.markDone(lease);
      const ttlMs = await redis.pttl(`${DEFAULT_KEY_PREFIX}${id}`);
      expect(DEFAULT_DONE_TTL_SECONDS).toBe(72 * 3600);
      expect(ttlMs).toBeGreaterThan((DEFAULT_DONE_TTL_SECONDS - 5) * 1000);
      expect(ttlMs).toBeLessThanOrEqual(DEFAULT_DONE_TTL_SECONDS * 1000);
    });

    it("renews a lease with PX of a fractional leaseSeconds, and says its lease period", async () => {
      const keyPrefix = prefix();
      const store = redisStore(redis.client, { keyPrefix, leaseSeconds: 0.6 });
      expect(store.leaseSeconds).toBe(0.6);
      const lease = leaseOf(await store.claim("evt_1"));
      expect(await redis.pttl(`${keyPrefix}evt_1`)).toBeLessThanOrEqual(600);
      await sleep(300);
      expect(await redis.pttl(`${keyPrefix}evt_1`)).toBeLessThan(400);
      expect(await store.extend(lease)).toBe(true);
      const renewed = await redis.pttl(`${keyPrefix}evt_1`);
      expect(renewed).toBeGreaterThan(400);
      expect(renewed).toBeLessThanOrEqual(600);
    });

    it("release frees its own claim, so the retry claims again", async () => {
      const keyPrefix = prefix();
      const store = redisStore(redis.client, { keyPrefix });
      await store.release(leaseOf(await store.claim("evt_1")));
      expect(await redis.get(`${keyPrefix}evt_1`)).toBeNull();
      expect((await store.claim("evt_1")).status).toBe("claimed");
    });

    it("release never deletes a done marker, nor a lease of another token", async () => {
      const keyPrefix = prefix();
      const store = redisStore(redis.client, { keyPrefix });
      const lease = leaseOf(await store.claim("evt_1"));
      await store.markDone(lease);
      await store.release(lease);
      expect(await store.claim("evt_1")).toEqual({ status: "done" });
      // A lease this instance never held (a made-up token) frees nothing, completes nothing and
      // renews nothing.
      const held = leaseOf(await store.claim("evt_2"));
      const forged = { key: "evt_2", token: randomUUID() };
      await store.release(forged);
      await store.markDone(forged);
      expect(await store.extend(forged)).toBe(false);
      expect(await redis.get(`${keyPrefix}evt_2`)).toBe(`lease:${held.token}`);
    });

    it("a lapsed lease taken over by another instance leaves the new lease in place", async () => {
      const keyPrefix = prefix();
      const first = redisStore(redis.client, { keyPrefix, leaseSeconds: 0.3 });
      const second = redisStore(redis.client, { keyPrefix, leaseSeconds: 30 });
      const stale = leaseOf(await first.claim("evt_1"));
      expect((await second.claim("evt_1")).status).toBe("in_progress");
      // The first lease lapses and the second instance takes over; the first one's late release,
      // completion or renewal (its handler ended after all) must leave the second one's lease.
      await sleep(400);
      const current = leaseOf(await second.claim("evt_1"));
      await first.release(stale);
      await first.markDone(stale);
      expect(await first.extend(stale)).toBe(false);
      expect(await redis.get(`${keyPrefix}evt_1`)).toBe(`lease:${current.token}`);
      expect(await redis.pttl(`${keyPrefix}evt_1`)).toBeGreaterThan(25_000);
    });

    it("keeps receivers with different prefixes apart", async () => {
      const one = redisStore(redis.client, { keyPrefix: prefix() });
      const two = redisStore(redis.client, { keyPrefix: prefix() });
      expect((await one.claim("evt_1")).status).toBe("claimed");
      expect((await two.claim("evt_1")).status).toBe("claimed");
    });

    it("lets exactly one of many concurrent claims from several instances win", async () => {
      const keyPrefix = prefix();
      const stores = [1, 2, 3].map(() => redisStore(redis.client, { keyPrefix }));
      const answers = await Promise.all(
        Array.from({ length: 60 }, (_, i) => stores[i % 3]!.claim("evt_1")),
      );
      expect(answers.filter((answer) => answer.status === "claimed")).toHaveLength(1);
      expect(answers.filter((answer) => answer.status === "in_progress")).toHaveLength(59);
    });

    it("loads its scripts again after Redis forgot them (SCRIPT FLUSH, restart)", async () => {
      const store = redisStore(redis.client, { keyPrefix: prefix() });
      const lease = leaseOf(await store.claim("evt_1"));
      await redis.scriptFlush();
      expect((await store.claim("evt_1")).status).toBe("in_progress");
      await redis.scriptFlush();
      expect(await store.extend(lease)).toBe(true);
      await redis.scriptFlush();
      await store.markDone(lease);
      await redis.scriptFlush();
      expect((await store.claim("evt_1")).status).toBe("done");
      const other = leaseOf(await store.claim("evt_2"));
      await redis.scriptFlush();
      await store.release(other);
      expect((await store.claim("evt_2")).status).toBe("claimed");
    });

    // A claim that failed on the caller's side may still run in Redis: before its cleanup,
    // after it, or twice. In every order it must leave nothing that holds the event.
    describe("a claim that failed for its caller holds nothing, in any order", () => {
      const faulty = async (plan: (call: number) => Fault, keyPrefix: string, timeoutMs = 2000) => {
        // Call 0 must be the claim's EVALSHA itself, not one that meets NOSCRIPT (an earlier test
        // flushes the script cache): a claim through the real client loads the script.
        await redisStore(redis.client, { keyPrefix: prefix() }).claim("evt_warm");
        const wrapped = faultyClient(redis.client, plan);
        return { wrapped, store: redisStore(wrapped.client, { keyPrefix, timeoutMs }) };
      };

      it("when the claim reaches Redis only after its cleanup (held back past timeoutMs)", async () => {
        const keyPrefix = prefix();
        // Call 0 is the claim, held back; call 1 the cleanup, which overtakes it.
        const { store, wrapped } = await faulty(
          (call) => (call === 0 ? "hold" : "pass"),
          keyPrefix,
          100,
        );
        await expect(store.claim("evt_1")).rejects.toMatchObject({ code: "redis_store_timeout" });
        await wrapped.ran(1);
        wrapped.release(0);
        const late = await wrapped.ran(0);
        expect(await redis.get(`${keyPrefix}evt_1`)).toBeNull();
        expect(String(late)).toBe("void");
        // The tombstone is short-lived: one lease (60 s by default).
        const [tombstone, ...more] = await redis.keys(`${keyPrefix}evt_1:void:*`);
        expect(more).toEqual([]);
        const tombstoneMs = await redis.pttl(tombstone!);
        expect(tombstoneMs).toBeGreaterThan(0);
        expect(tombstoneMs).toBeLessThanOrEqual(DEFAULT_LEASE_SECONDS * 1000);
        // The retry claims at once.
        expect((await redisStore(redis.client, { keyPrefix }).claim("evt_1")).status).toBe(
          "claimed",
        );
      });

      it("when the claim ran but its reply was lost, and the first cleanup failed to send", async () => {
        const keyPrefix = prefix();
        const plan = (call: number): Fault =>
          call === 0 ? "lose-reply" : call === 1 ? "fail" : "pass";
        const { store, wrapped } = await faulty(plan, keyPrefix);
        await expect(store.claim("evt_1")).rejects.toThrow(/reply to call 0 was lost/);
        expect(String(await wrapped.ran(0))).toBe("claimed");
        // The cleanup is tried again after a pause, and then frees the key.
        await eventually(() => redis.get(`${keyPrefix}evt_1`), null);
        expect(wrapped.calls).toBe(3);
        expect((await redisStore(redis.client, { keyPrefix }).claim("evt_1")).status).toBe(
          "claimed",
        );
      });

      it("when the claim runs again after its cleanup (a client resending it)", async () => {
        const keyPrefix = prefix();
        const { store, wrapped } = await faulty(
          (call) => (call === 0 ? "lose-reply" : "pass"),
          keyPrefix,
        );
        await expect(store.claim("evt_1")).rejects.toThrow(/reply to call 0 was lost/);
        expect(String(await wrapped.ran(0))).toBe("claimed");
        await eventually(() => redis.get(`${keyPrefix}evt_1`), null);
        expect(String(await wrapped.resend(0))).toBe("void");
        expect(await redis.get(`${keyPrefix}evt_1`)).toBeNull();
      });

      it("for an id whose key cannot share a slot with a tombstone, still by deleting the lease", async () => {
        const keyPrefix = prefix();
        const id = "evt_a}b";
        expect(tombstoneKey(keyPrefix + id, randomUUID())).toBeUndefined();
        const { store, wrapped } = await faulty(
          (call) => (call === 0 ? "lose-reply" : "pass"),
          keyPrefix,
        );
        await expect(store.claim(id)).rejects.toThrow();
        expect(String(await wrapped.ran(0))).toBe("claimed");
        await eventually(() => redis.get(keyPrefix + id), null);
        expect((await redisStore(redis.client, { keyPrefix }).claim(id)).status).toBe("claimed");
      });
    });

    describe("conformance over node:http", () => {
      runConformanceSuite(`redisStore (${kind}) on core handleNodeRequest`, {
        setup: (options) => startNodeApp(options as WebhookHandlerOptions),
        store: () => redisStore(redis.client, { keyPrefix: prefix() }),
      });
    });
  });
});

describe("tombstoneKey", () => {
  it("keeps a key's hash tag, or makes the whole key the tag, so both share a cluster slot", () => {
    expect(tombstoneKey("{app}:evt_1", "t")).toBe("{app}:evt_1:void:t");
    expect(tombstoneKey("kallima:webhooks:evt_1", "t")).toBe(
      "kallima:webhooks:evt_1:void:t:{kallima:webhooks:evt_1}",
    );
    // Braces without a valid tag: no name that starts with the key shares its slot.
    for (const key of ["a}b", "x{}y", "x{y", "{}"]) expect(tombstoneKey(key, "t")).toBeUndefined();
  });
});

describe("redisStore options", () => {
  const client = {
    evalsha: () => Promise.resolve("claimed"),
    eval: () => Promise.resolve("claimed"),
  } satisfies RedisStoreClient;

  it("takes fractional leaseSeconds", () => {
    expect(redisStore(client, { leaseSeconds: 0.25 }).leaseSeconds).toBe(0.25);
  });

  it("answers a store fault for an answer the claim script never gives", async () => {
    const odd = { evalsha: () => Promise.resolve("OK"), eval: () => Promise.resolve("OK") };
    await expect(redisStore(odd).claim("evt_1")).rejects.toThrow(/Unexpected answer/);
  });

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
