import { createHash, randomUUID } from "node:crypto";
import {
  type ClaimResult,
  DEFAULT_DONE_TTL_SECONDS,
  DEFAULT_LEASE_SECONDS,
  type IdempotencyLease,
  type IdempotencyStore,
  WebhookConfigError,
} from "@kallima/webhooks";
import { tombstoneKey } from "./keys.js";

/** Arguments node-redis takes for `EVAL`/`EVALSHA`. */
export interface NodeRedisEvalOptions {
  keys: string[];
  arguments: string[];
}

/**
 * The part of an `ioredis` client this store uses: a `Redis` or a `Cluster` instance fits.
 * Only the type is described here; the package does not import `ioredis`.
 */
export interface IoRedisScriptClient {
  evalsha(sha1: string, numkeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  eval(script: string, numkeys: number, ...keysAndArgs: string[]): Promise<unknown>;
}

/**
 * The part of a `redis` (node-redis v4 and later) client this store uses: a client from
 * `createClient()` or a cluster from `createCluster()`, connected.
 */
export interface NodeRedisScriptClient {
  evalSha(sha1: string, options: NodeRedisEvalOptions): Promise<unknown>;
  eval(script: string, options: NodeRedisEvalOptions): Promise<unknown>;
}

/** A Redis client {@link redisStore} accepts: `ioredis` or `redis` (node-redis). */
export type RedisStoreClient = IoRedisScriptClient | NodeRedisScriptClient;

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /**
   * Prefix of every key this store writes; the event id follows it. Give each receiver (each
   * webhook endpoint) its own prefix when several share one Redis. Default `"kallima:webhooks:"`.
   */
  keyPrefix?: string;
  /**
   * How long a claim lasts, in seconds, before another delivery of the same event may run it
   * (fractions allowed). While a handler runs, the core handler renews it every third of this,
   * so a slow handler keeps its claim as long as Redis answers the renewals; a crashed
   * instance's claim lapses after this and its event runs again. Default 60.
   */
  leaseSeconds?: number;
  /**
   * How long a handled event id is remembered, in seconds. Default 72 hours, the sender's retry
   * horizon: a repeat after that runs the handler again.
   */
  ttlSeconds?: number;
  /**
   * Longest wait for one Redis round trip, in milliseconds, before it counts as a store fault
   * (503 with `Retry-After`, or the handler runs anyway with `onStoreError: "process"`).
   * It bounds the answer time whatever the client's own retry and queue settings. Default 2000.
   */
  timeoutMs?: number;
}

/** A Redis round trip took longer than `timeoutMs`. The core reports it as a store fault. */
export class RedisStoreTimeoutError extends Error {
  readonly code = "redis_store_timeout";
  /** The store operation that timed out: `claim`, `markDone`, `release` or `extend`. */
  readonly operation: string;

  constructor(operation: string, timeoutMs: number) {
    super(`Redis did not answer the ${operation} of an event id within ${timeoutMs} ms.`);
    this.name = "RedisStoreTimeoutError";
    this.operation = operation;
  }
}

/** The store {@link redisStore} returns: an `IdempotencyStore` that says its lease period. */
export interface RedisIdempotencyStore extends IdempotencyStore {
  /** The lease period in seconds, so that the core handler renews a claim in time. */
  readonly leaseSeconds: number;
}

/** Default prefix of the keys {@link redisStore} writes. */
export const DEFAULT_KEY_PREFIX = "kallima:webhooks:";
/** Default longest wait for one Redis round trip, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 2000;

// A key holds either DONE or LEASE_PREFIX + the claimant's token. Tokens are UUIDs, so a lease
// value never equals DONE. The format is the one of the first release, so that instances of
// both versions agree during a rolling upgrade.
const DONE = "done";
const LEASE_PREFIX = "lease:";
// What the claim script answers when its token was voided by the caller's cleanup: only a claim
// whose caller already gave up can meet it, so nobody reads it.
const VOID = "void";

// KEYS[1] is the event's key, KEYS[2] (when given) the tombstone of this claim's token. Read and
// write in one script so that exactly one claimant wins, and so that a done marker is told
// apart from an unexpired lease (SET NX alone cannot say which one it lost to). The tombstone
// comes first: a claim whose caller gave up and cleaned up must not take the key, whatever the
// key holds by the time the claim arrives.
const CLAIM_SCRIPT = `if KEYS[2] and redis.call('EXISTS', KEYS[2]) == 1 then return '${VOID}' end
local value = redis.call('GET', KEYS[1])
if value == '${DONE}' then return '${DONE}' end
if value then return 'in_progress' end
redis.call('SET', KEYS[1], '${LEASE_PREFIX}' .. ARGV[1], 'PX', ARGV[2])
return 'claimed'`;

// Sent after a claim failed on the caller's side (timeout, client error): the claim may have run,
// may run later, or even run twice (a client that resends unanswered commands after reconnecting).
// Deleting the lease covers "ran before", the tombstone covers "runs after", in either order.
const ABANDON_SCRIPT = `if KEYS[2] then redis.call('SET', KEYS[2], '${VOID}', 'PX', ARGV[2]) end
if redis.call('GET', KEYS[1]) == '${LEASE_PREFIX}' .. ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`;

// Records success unless another claimant holds the key now: a lease that lapsed with nobody
// taking over still counts, since the handler did run to completion.
const MARK_DONE_SCRIPT = `local value = redis.call('GET', KEYS[1])
if value and value ~= '${DONE}' and value ~= '${LEASE_PREFIX}' .. ARGV[1] then return 0 end
redis.call('SET', KEYS[1], '${DONE}', 'PX', ARGV[2])
return 1`;

// Deletes the key only while it still holds this claimant's lease: never a done marker, and never
// the lease of another instance that took over after this one's lapsed.
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == '${LEASE_PREFIX}' .. ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

// Renews only this claimant's own lease: a lapsed one that another took over stays theirs.
const EXTEND_SCRIPT = `if redis.call('GET', KEYS[1]) == '${LEASE_PREFIX}' .. ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

interface Script {
  source: string;
  sha1: string;
}

const script = (source: string): Script => ({
  source,
  sha1: createHash("sha1").update(source).digest("hex"),
});

const SCRIPTS = {
  claim: script(CLAIM_SCRIPT),
  abandon: script(ABANDON_SCRIPT),
  markDone: script(MARK_DONE_SCRIPT),
  release: script(RELEASE_SCRIPT),
  extend: script(EXTEND_SCRIPT),
};

interface RunOptions {
  /** `"source"` skips EVALSHA and sends the whole script. Default `"sha"`. */
  send?: "sha" | "source";
  /** True once the caller gave up: a NOSCRIPT is then not followed by an EVAL. */
  abandoned?: () => boolean;
}

/** Runs a script on its keys (all in one hash slot). */
type Runner = (
  script: Script,
  keys: string[],
  args: string[],
  options?: RunOptions,
) => Promise<unknown>;

function isNoScript(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return message.startsWith("NOSCRIPT");
}

// EVALSHA saves resending the script on every delivery; NOSCRIPT means Redis restarted or
// flushed its script cache, and EVAL loads it again.
function runnerFor(client: RedisStoreClient): Runner {
  if (typeof client !== "object" || client === null) {
    throw new WebhookConfigError(
      "invalid_option",
      "redisStore needs an ioredis or node-redis (redis) client.",
    );
  }
  if (typeof (client as NodeRedisScriptClient).evalSha === "function") {
    const nodeRedis = client as NodeRedisScriptClient;
    return async (script, keys, args, { send = "sha", abandoned } = {}) => {
      const options = { keys, arguments: args };
      if (send === "source") return nodeRedis.eval(script.source, options);
      try {
        return await nodeRedis.evalSha(script.sha1, options);
      } catch (error) {
        if (!isNoScript(error) || abandoned?.()) throw error;
        return nodeRedis.eval(script.source, options);
      }
    };
  }
  if (typeof (client as IoRedisScriptClient).evalsha === "function") {
    const ioredis = client as IoRedisScriptClient;
    return async (script, keys, args, { send = "sha", abandoned } = {}) => {
      if (send === "source") return ioredis.eval(script.source, keys.length, ...keys, ...args);
      try {
        return await ioredis.evalsha(script.sha1, keys.length, ...keys, ...args);
      } catch (error) {
        if (!isNoScript(error) || abandoned?.()) throw error;
        return ioredis.eval(script.source, keys.length, ...keys, ...args);
      }
    };
  }
  throw new WebhookConfigError(
    "invalid_option",
    "redisStore needs an ioredis or node-redis (redis) client: this one has neither evalsha() nor evalSha().",
  );
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new WebhookConfigError(
      "invalid_option",
      `${name} must be a positive finite number, got ${String(value)}.`,
    );
  }
  return value;
}

function text(reply: unknown): string {
  return reply instanceof Uint8Array ? new TextDecoder().decode(reply) : String(reply);
}

function withTimeout<T>(operation: string, timeoutMs: number, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisStoreTimeoutError(operation, timeoutMs)), timeoutMs);
  });
  // race() observes `promise` too, so a rejection after the timeout is not left unhandled.
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Pauses between attempts of a cleanup that failed (Redis unreachable): it must land once Redis
// answers again, or a claim that ran before the connection dropped holds the key for a lease.
const CLEANUP_RETRY_DELAYS_MS = [250, 500, 1000, 2000, 4000];

/**
 * An idempotency store in Redis, shared by every instance of a receiver: a repeated or
 * concurrent delivery of one event runs its handler once across the fleet. Works with
 * `ioredis` and with `redis` (node-redis v4 and later, connected). Each claim is one atomic
 * Lua script and a lease with its own random token: only that token completes, releases or
 * renews it, and a crashed instance's lease lapses so that its event runs again. A claim that
 * failed on this side (timeout, client error) is voided, so that it holds nothing if it lands
 * in Redis later.
 *
 * @example
 * ```ts
 * import { Redis } from "ioredis";
 * import { createWebhookHandler } from "@kallima/webhooks";
 * import { redisStore } from "@kallima/webhooks-redis";
 *
 * const redis = new Redis(process.env.REDIS_URL!, { enableOfflineQueue: false });
 * const webhooks = createWebhookHandler({
 *   secret: process.env.KALLIMA_WEBHOOK_SECRET!,
 *   idempotency: { store: redisStore(redis) },
 * });
 * ```
 */
export function redisStore(
  client: RedisStoreClient,
  options: RedisStoreOptions = {},
): RedisIdempotencyStore {
  const run = runnerFor(client);
  const keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  if (typeof keyPrefix !== "string") {
    throw new WebhookConfigError("invalid_option", "keyPrefix must be a string.");
  }
  const leaseSeconds = positive("leaseSeconds", options.leaseSeconds, DEFAULT_LEASE_SECONDS);
  // PX in whole milliseconds, so that fractional leases (0.6 s) work; never 0, which Redis refuses.
  const leaseMs = Math.ceil(leaseSeconds * 1000);
  const ttlMs = String(
    Math.ceil(positive("ttlSeconds", options.ttlSeconds, DEFAULT_DONE_TTL_SECONDS) * 1000),
  );
  const timeoutMs = positive("timeoutMs", options.timeoutMs, DEFAULT_TIMEOUT_MS);

  /**
   * Voids a claim whose caller gave up: fire and forget, retried while Redis is unreachable but
   * no longer than a lease (by then a lease the claim took has lapsed by itself), and never an
   * unhandled rejection. Sent whole: an EVALSHA that met a cold script cache would need a second
   * round trip, and a client whose own timeout already fired might not get to send it.
   */
  const abandon = (keys: string[], token: string) => {
    const started = Date.now();
    const attempt = (retry: number) => {
      const voiding = run(SCRIPTS.abandon, keys, [token, String(leaseMs)], { send: "source" });
      withTimeout("cleanup", timeoutMs, voiding).catch(() => {
        const delay = CLEANUP_RETRY_DELAYS_MS[retry];
        if (delay === undefined || Date.now() - started + delay > leaseMs) return;
        // unref: a pending cleanup must not keep a process alive that is otherwise done.
        setTimeout(() => attempt(retry + 1), delay).unref?.();
      });
    };
    attempt(0);
  };

  const leaseKey = (lease: IdempotencyLease) => keyPrefix + lease.key;

  return {
    leaseSeconds,
    async claim(key) {
      const token = randomUUID();
      const redisKey = keyPrefix + key;
      const tombstone = tombstoneKey(redisKey, token);
      const keys = tombstone === undefined ? [redisKey] : [redisKey, tombstone];
      // Once the caller has given up, a NOSCRIPT is not followed by an EVAL: the claim would
      // only be voided anyway.
      let failed = false;
      const claiming = run(SCRIPTS.claim, keys, [token, String(leaseMs)], {
        abandoned: () => failed,
      });
      let reply: string;
      try {
        reply = text(await withTimeout("claim", timeoutMs, claiming));
      } catch (error) {
        // Whichever fired first, the store's timeoutMs or the client's own commandTimeout (or
        // the connection dropped with the command sent), the claim may still run in Redis: void
        // it, so that it cannot leave behind a lease that nobody holds.
        failed = true;
        abandon(keys, token);
        throw error;
      }
      if (reply === "claimed") return { status: "claimed", lease: { key, token } };
      if (reply === "in_progress" || reply === DONE) return { status: reply } satisfies ClaimResult;
      throw new Error(`Unexpected answer from the Redis claim script: ${reply.slice(0, 64)}`);
    },
    async markDone(lease) {
      await withTimeout(
        "markDone",
        timeoutMs,
        run(SCRIPTS.markDone, [leaseKey(lease)], [lease.token, ttlMs]),
      );
    },
    async release(lease) {
      await withTimeout(
        "release",
        timeoutMs,
        run(SCRIPTS.release, [leaseKey(lease)], [lease.token]),
      );
    },
    async extend(lease) {
      const reply = await withTimeout(
        "extend",
        timeoutMs,
        run(SCRIPTS.extend, [leaseKey(lease)], [lease.token, String(leaseMs)]),
      );
      return text(reply) === "1";
    },
  };
}
