// Type tests: `tsc -p tsconfig.json` (the typecheck script) fails if any of these stop holding.
import type { IdempotencyStore } from "@kallima/webhooks";
import type { Redis as IoRedis, Cluster as IoRedisCluster } from "ioredis";
import type { Redis as IoRedis5 } from "ioredis-v5";
import type { RedisClientType, RedisClusterType } from "redis";
import type {
  RedisClientType as RedisClientType4,
  RedisClusterType as RedisClusterType4,
} from "redis-v4";
import type {
  RedisClientType as RedisClientType5,
  RedisClusterType as RedisClusterType5,
} from "redis-v5";
import { describe, expectTypeOf, it } from "vitest";
import {
  type RedisIdempotencyStore,
  type RedisStoreClient,
  type RedisStoreOptions,
  redisStore,
} from "./index.js";

describe("types", () => {
  it("takes ioredis clients and clusters, v5 and v6", () => {
    expectTypeOf<IoRedis>().toExtend<RedisStoreClient>();
    expectTypeOf<IoRedisCluster>().toExtend<RedisStoreClient>();
    expectTypeOf<IoRedis5>().toExtend<RedisStoreClient>();
  });

  it("takes node-redis clients and clusters, v4 to v6", () => {
    expectTypeOf<RedisClientType>().toExtend<RedisStoreClient>();
    expectTypeOf<RedisClusterType>().toExtend<RedisStoreClient>();
    expectTypeOf<RedisClientType5>().toExtend<RedisStoreClient>();
    expectTypeOf<RedisClusterType5>().toExtend<RedisStoreClient>();
    expectTypeOf<RedisClientType4>().toExtend<RedisStoreClient>();
    expectTypeOf<RedisClusterType4>().toExtend<RedisStoreClient>();
  });

  it("refuses what is not a Redis client, and gives an IdempotencyStore", () => {
    expectTypeOf<{ get(key: string): Promise<string> }>().not.toExtend<RedisStoreClient>();
    expectTypeOf(redisStore).returns.toEqualTypeOf<RedisIdempotencyStore>();
    expectTypeOf<RedisIdempotencyStore>().toExtend<IdempotencyStore>();
    // The core renews a lease every third of leaseSeconds: the store always says it.
    expectTypeOf<RedisIdempotencyStore["leaseSeconds"]>().toEqualTypeOf<number>();
    expectTypeOf<RedisStoreOptions>().toEqualTypeOf<{
      keyPrefix?: string;
      leaseSeconds?: number;
      ttlSeconds?: number;
      timeoutMs?: number;
    }>();
  });
});
