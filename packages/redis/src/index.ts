import { createHash, randomUUID } from "node:crypto";
import {
  type ClaimResult,
  DEFAULT_DONE_TTL_SECONDS,
  DEFAULT_LEASE_SECONDS,
  type IdempotencyStore,
  WebhookConfigError,
} from "@kallima/webhooks";

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
   * How long a claim lasts, in seconds, before another delivery of the same event may run it.
   * It must be longer than your slowest handler: an event whose lease lapses while its handler
   * still runs can run twice. A crashed instance's event runs again after this. Default 60.
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
  /** The store operation that timed out: `claim`, `markDone` or `release`. */
  readonly operation: string;

  constructor(operation: string, timeoutMs: number) {
    super(`Redis did not answer the ${operation} of an event id within ${timeoutMs} ms.`);
    this.name = "RedisStoreTimeoutError";
    this.operation = operation;
  }
}

/** Default prefix of the keys {@link redisStore} writes. */
export const DEFAULT_KEY_PREFIX = "kallima:webhooks:";
/** Default longest wait for one Redis round trip, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 2000;

// A key holds either DONE or LEASE_PREFIX + the claimant's token. Tokens are UUIDs, so a lease
// value never equals DONE.
const DONE = "done";
const LEASE_PREFIX = "lease:";

// Read and write in one script so that exactly one claimant wins, and so that a done marker is
// told apart from an unexpired lease (SET NX alone cannot say which one it lost to).
const CLAIM_SCRIPT = `local value = redis.call('GET', KEYS[1])
if value == '${DONE}' then return '${DONE}' end
if value then return 'in_progress' end
redis.call('SET', KEYS[1], '${LEASE_PREFIX}' .. ARGV[1], 'PX', ARGV[2])
return 'claimed'`;

const MARK_DONE_SCRIPT = `redis.call('SET', KEYS[1], '${DONE}', 'PX', ARGV[1])
return 1`;

// Deletes the key only while it still holds this claimant's lease: never a done marker, and never
// the lease of another instance that took over after this one's lapsed.
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == '${LEASE_PREFIX}' .. ARGV[1] then
  return redis.call('DEL', KEYS[1])
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
  markDone: script(MARK_DONE_SCRIPT),
  release: script(RELEASE_SCRIPT),
};

interface RunOptions {
  /** `"source"` skips EVALSHA and sends the whole script. Default `"sha"`. */
  send?: "sha" | "source";
  /** True once the caller gave up: a NOSCRIPT is then not followed by an EVAL. */
  abandoned?: () => boolean;
}

/** Runs a script on one key. */
type Runner = (
  script: Script,
  key: string,
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
    return async (script, key, args, { send = "sha", abandoned } = {}) => {
      const options = { keys: [key], arguments: args };
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
    return async (script, key, args, { send = "sha", abandoned } = {}) => {
      if (send === "source") return ioredis.eval(script.source, 1, key, ...args);
      try {
        return await ioredis.evalsha(script.sha1, 1, key, ...args);
      } catch (error) {
        if (!isNoScript(error) || abandoned?.()) throw error;
        return ioredis.eval(script.source, 1, key, ...args);
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

const ignore = () => {};

function text(reply: unknown): string {
  return reply instanceof Uint8Array ? new TextDecoder().decode(reply) : String(reply);
}

function withTimeout<T>(
  operation: string,
  timeoutMs: number,
  promise: Promise<T>,
  onTimeout?: () => void,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new RedisStoreTimeoutError(operation, timeoutMs));
    }, timeoutMs);
  });
  // race() observes `promise` too, so a rejection after the timeout is not left unhandled.
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * An idempotency store in Redis, shared by every instance of a receiver: a repeated or
 * concurrent delivery of one event runs its handler once across the fleet. Works with
 * `ioredis` and with `redis` (node-redis v4 and later, connected). Each claim is one atomic
 * Lua script; a claim is a lease that lapses on its own, so a crashed instance's event runs
 * again on a later delivery.
 *
 * @example
 * ```ts
 * import Redis from "ioredis";
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
): IdempotencyStore {
  const run = runnerFor(client);
  const keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  if (typeof keyPrefix !== "string") {
    throw new WebhookConfigError("invalid_option", "keyPrefix must be a string.");
  }
  const leaseMs = String(
    Math.ceil(positive("leaseSeconds", options.leaseSeconds, DEFAULT_LEASE_SECONDS) * 1000),
  );
  const ttlMs = String(
    Math.ceil(positive("ttlSeconds", options.ttlSeconds, DEFAULT_DONE_TTL_SECONDS) * 1000),
  );
  const timeoutMs = positive("timeoutMs", options.timeoutMs, DEFAULT_TIMEOUT_MS);
  // The interface hands back only the event id, so this instance remembers the token of each
  // claim it holds, to release its own lease and nobody else's.
  const tokens = new Map<string, string>();

  return {
    async claim(key) {
      const token = randomUUID();
      const redisKey = keyPrefix + key;
      // A claim that times out may still land later, for a delivery already answered 503. The
      // release follows it on the same connection, so Redis runs it after the claim and frees
      // the lease (if it was taken), and the sender's retry need not wait the lease out. It is
      // sent whole: an EVALSHA that met a cold script cache could not retry past a client
      // timeout. For the same reason the abandoned claim does not retry as EVAL after NOSCRIPT,
      // which would land after the release.
      let abandoned = false;
      const abandon = () => {
        abandoned = true;
        run(SCRIPTS.release, redisKey, [token], { send: "source" }).catch(ignore);
      };
      const claiming = run(SCRIPTS.claim, redisKey, [token, leaseMs], {
        abandoned: () => abandoned,
      });
      const reply = text(await withTimeout("claim", timeoutMs, claiming, abandon));
      if (reply === "claimed") tokens.set(key, token);
      if (reply === "claimed" || reply === "in_progress" || reply === DONE) {
        return reply satisfies ClaimResult;
      }
      throw new Error(`Unexpected answer from the Redis claim script: ${reply.slice(0, 64)}`);
    },
    async markDone(key) {
      tokens.delete(key);
      await withTimeout("markDone", timeoutMs, run(SCRIPTS.markDone, keyPrefix + key, [ttlMs]));
    },
    async release(key) {
      const token = tokens.get(key);
      if (token === undefined) return;
      tokens.delete(key);
      await withTimeout("release", timeoutMs, run(SCRIPTS.release, keyPrefix + key, [token]));
    },
  };
}
