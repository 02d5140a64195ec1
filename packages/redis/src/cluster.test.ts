// The store on Redis Cluster (one node holding every slot): a claim's script touches the event's
// key and its token's tombstone, and Redis Cluster refuses a script whose keys lie in different
// hash slots (CROSSSLOT), even on one node. So every script the store sends must pass here.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { RedisServer, redisServerAvailable } from "@kallima/webhooks-conformance/redis-server";
import { runIdempotencyStoreSuite } from "@kallima/webhooks-conformance/store";
import { Cluster } from "ioredis";
import { createCluster } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisStoreClient, redisStore } from "./index.js";
import { tombstoneKey } from "./keys.js";
import { connectClient, type TestClient } from "./test-support/clients.js";
import { faultyClient } from "./test-support/faulty-client.js";

const available = redisServerAvailable();
const ignore = () => {};

interface ClusterClient {
  client: RedisStoreClient;
  close(): Promise<void>;
}

const CLUSTER_CLIENTS: Record<string, (port: number) => Promise<ClusterClient>> = {
  "ioredis Cluster": async (port) => {
    const cluster = new Cluster([{ host: "127.0.0.1", port }], { lazyConnect: true });
    cluster.on("error", ignore);
    await cluster.connect();
    return { client: cluster, close: async () => cluster.disconnect() };
  },
  "node-redis createCluster": async (port) => {
    const cluster = createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${port}` }] });
    cluster.on("error", ignore);
    await cluster.connect();
    return { client: cluster, close: () => cluster.close() };
  },
};

describe.skipIf(!available)("redisStore on a one-node Redis Cluster", () => {
  let server: RedisServer;
  // A plain connection to the node, which owns every slot: reads Redis state for the checks.
  let node: TestClient;

  beforeAll(async () => {
    server = await RedisServer.start({ cluster: true });
    node = await connectClient("ioredis", server.url);
    await node.command(["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]);
    const deadline = Date.now() + 10_000;
    while (!String(await node.command(["CLUSTER", "INFO"])).includes("cluster_state:ok")) {
      if (Date.now() > deadline) throw new Error("the one-node cluster did not come up");
      await sleep(50);
    }
  }, 30_000);
  afterAll(async () => {
    await node?.close();
    await server?.remove();
  });

  const slot = async (key: string) => Number(await node.command(["CLUSTER", "KEYSLOT", key]));

  it("puts a tombstone in its key's hash slot", async () => {
    const token = randomUUID();
    for (const key of ["kallima:webhooks:evt_1", "{app}:evt_1", "app:{evt_1}", "x{y}z:{w}"]) {
      const tombstone = tombstoneKey(key, token);
      expect(tombstone?.startsWith(key)).toBe(true);
      expect(await slot(tombstone!)).toBe(await slot(key));
    }
  });

  describe.each(Object.keys(CLUSTER_CLIENTS))("with a %s client", (name) => {
    let cluster: ClusterClient;
    beforeAll(async () => {
      cluster = await CLUSTER_CLIENTS[name]!(server.port);
    });
    afterAll(() => cluster?.close());

    runIdempotencyStoreSuite(`redisStore (${name})`, {
      create: ({ leaseSeconds }) =>
        redisStore(cluster.client, { keyPrefix: `cluster:${randomUUID()}:`, leaseSeconds }),
    });

    it.each([
      ["the default prefix", "kallima:webhooks:"],
      ["a hash-tagged prefix", "{kallima}:"],
    ])("voids a failed claim with %s", async (_, base) => {
      const keyPrefix = `${base}${randomUUID()}:`;
      // Load the claim script, so that call 0 below is the claim's EVALSHA itself.
      await redisStore(cluster.client, { keyPrefix }).claim("evt_warm");
      const wrapped = faultyClient(cluster.client, (call) => (call === 0 ? "lose-reply" : "pass"));
      const store = redisStore(wrapped.client, { keyPrefix });
      await expect(store.claim("evt_1")).rejects.toThrow(/reply to call 0 was lost/);
      expect(String(await wrapped.ran(0))).toBe("claimed");
      // The cleanup (both keys, one script) ran: a CROSSSLOT refusal would leave the lease.
      expect(await wrapped.ran(1)).toBeDefined();
      expect(await node.get(`${keyPrefix}evt_1`)).toBeNull();
      expect(await node.keys(`${keyPrefix}evt_1:void:*`)).toHaveLength(1);
      expect((await redisStore(cluster.client, { keyPrefix }).claim("evt_1")).status).toBe(
        "claimed",
      );
    });
  });
});
