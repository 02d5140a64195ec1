import { Redis as IoRedis6 } from "ioredis";
import { Redis as IoRedis5 } from "ioredis-v5";
import { createClient as createClient6 } from "redis";
import { createClient as createClient4 } from "redis-v4";
import { createClient as createClient5 } from "redis-v5";
import type { RedisStoreClient } from "../index.js";

/** A connected client for the store, plus the raw reads the tests check Redis state with. */
export interface TestClient {
  kind: ClientKind;
  client: RedisStoreClient;
  get(key: string): Promise<string | null>;
  pttl(key: string): Promise<number>;
  incr(key: string): Promise<number>;
  /** The keys matching a glob pattern (`KEYS`: fine on a test server). */
  keys(pattern: string): Promise<string[]>;
  scriptFlush(): Promise<unknown>;
  /** Sends any command, such as `["CLIENT", "PAUSE", "1000"]`. */
  command(args: string[]): Promise<unknown>;
  close(): Promise<void>;
}

export const CLIENT_KINDS = ["ioredis", "ioredis@5", "redis", "redis@5", "redis@4"] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

const ignore = () => {};

/** How a test client is set up beyond the defaults below. */
export interface ClientOptions {
  /**
   * The client's own per-command timeout, in ms (ioredis `commandTimeout`, node-redis v5+
   * `commandOptions.timeout`; node-redis v4 has none and ignores it). Default: 1000 for
   * ioredis, none for node-redis.
   */
  commandTimeoutMs?: number;
}

/** The client kinds that have a per-command timeout of their own. */
export const hasCommandTimeout = (kind: ClientKind): boolean => kind !== "redis@4";

/**
 * The client kinds whose command timeout also fails a command already sent to Redis, which
 * then still runs there: ioredis. node-redis's `commandOptions.timeout` only bounds the wait
 * before a command is written to the socket, so a sent command is never timed out by it.
 */
export const timesOutSentCommands = (kind: ClientKind): boolean => kind.startsWith("ioredis");

// Short timeouts and no offline queue, as the README recommends: with Redis down, a command
// fails at once instead of waiting for a reconnection, so the receiver answers 503 quickly.
const ioredisOptions = ({ commandTimeoutMs = 1000 }: ClientOptions) => ({
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  connectTimeout: 500,
  commandTimeout: commandTimeoutMs,
  retryStrategy: () => 100,
});

interface IoRedisLike {
  get(key: string): Promise<string | null>;
  pttl(key: string): Promise<number>;
  incr(key: string): Promise<number>;
  keys(pattern: string): Promise<string[]>;
  script(subcommand: "FLUSH"): Promise<unknown>;
  call(command: string, ...args: string[]): Promise<unknown>;
  on(event: "error", listener: () => void): unknown;
  connect(): Promise<void>;
  disconnect(): void;
}

async function ioredis(kind: ClientKind, client: IoRedisLike & RedisStoreClient) {
  // Without a listener ioredis prints every failed reconnection attempt.
  client.on("error", ignore);
  await client.connect();
  return {
    kind,
    client,
    get: (key: string) => client.get(key),
    pttl: (key: string) => client.pttl(key),
    incr: (key: string) => client.incr(key),
    keys: (pattern: string) => client.keys(pattern),
    scriptFlush: () => client.script("FLUSH"),
    command: ([name = "", ...args]: string[]) => client.call(name, ...args),
    close: async () => client.disconnect(),
  } satisfies TestClient;
}

const nodeRedisOptions = (url: string, { commandTimeoutMs }: ClientOptions) => ({
  url,
  disableOfflineQueue: true,
  socket: { connectTimeout: 500, reconnectStrategy: () => 100 },
  ...(commandTimeoutMs === undefined ? {} : { commandOptions: { timeout: commandTimeoutMs } }),
});

interface NodeRedisLike {
  get(key: string): Promise<string | null>;
  pTTL(key: string): Promise<number>;
  incr(key: string): Promise<number>;
  keys(pattern: string): Promise<string[]>;
  scriptFlush(): Promise<unknown>;
  sendCommand(args: string[]): Promise<unknown>;
  on(event: "error", listener: () => void): unknown;
  connect(): Promise<unknown>;
  disconnect(): Promise<void>;
}

async function nodeRedis(kind: ClientKind, client: NodeRedisLike & RedisStoreClient) {
  // node-redis throws an "error" event with no listener, which would end the process.
  client.on("error", ignore);
  await client.connect();
  return {
    kind,
    client,
    get: (key: string) => client.get(key),
    pttl: (key: string) => client.pTTL(key),
    incr: (key: string) => client.incr(key),
    keys: (pattern: string) => client.keys(pattern),
    scriptFlush: () => client.scriptFlush(),
    command: (args: string[]) => client.sendCommand(args),
    close: async () => {
      await client.disconnect().catch(ignore);
    },
  } satisfies TestClient;
}

/** Connects a client of the given library and major version to `url`. */
export function connectClient(
  kind: ClientKind,
  url: string,
  options: ClientOptions = {},
): Promise<TestClient> {
  switch (kind) {
    case "ioredis":
      return ioredis(kind, new IoRedis6(url, ioredisOptions(options)));
    case "ioredis@5":
      return ioredis(kind, new IoRedis5(url, ioredisOptions(options)));
    case "redis":
      return nodeRedis(kind, createClient6(nodeRedisOptions(url, options)));
    case "redis@5":
      return nodeRedis(kind, createClient5(nodeRedisOptions(url, options)));
    case "redis@4":
      // node-redis v4 has no per-command timeout.
      return nodeRedis(kind, createClient4(nodeRedisOptions(url, {})));
  }
}
