// Several receiver PROCESSES sharing one Redis, as behind a load balancer: the handler of an
// event runs once across all of them. Handler runs are counted in Redis by the receivers
// (src/test-support/receiver.ts), since no process sees the others' memory.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CONFORMANCE_SECRET,
  type ConformanceResponse,
  eventBody,
  signDelivery,
} from "@kallima/webhooks-conformance";
import { RedisServer, redisServerAvailable } from "@kallima/webhooks-conformance/redis-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectClient, type TestClient } from "./test-support/clients.js";
import { Receiver, removeReceiverBundle } from "./test-support/receivers.js";

const available = redisServerAvailable();

const outcome = (response: ConformanceResponse): unknown =>
  (JSON.parse(response.body) as { outcome?: unknown }).outcome;

describe.skipIf(!available)("several receiver processes sharing one Redis", () => {
  const keyPrefix = `fleet:${randomUUID()}:`;
  let server: RedisServer;
  let redis: TestClient;
  // One receiver on ioredis and one on node-redis: both clients must agree on the key format.
  let a: Receiver;
  let b: Receiver;
  const extra: Receiver[] = [];

  beforeAll(async () => {
    server = await RedisServer.start();
    redis = await connectClient("ioredis", server.url);
    const options = { redisUrl: server.url, keyPrefix, secret: CONFORMANCE_SECRET };
    [a, b] = await Promise.all([
      Receiver.start({ ...options, client: "ioredis" }),
      Receiver.start({ ...options, client: "redis" }),
    ]);
  }, 30_000);

  afterAll(async () => {
    await Promise.all([a, b, ...extra].map((receiver) => receiver?.stop()));
    await redis?.close();
    await server?.stop();
    await removeReceiverBundle();
  });

  const count = async (what: "attempts" | "effects", id: string) =>
    Number((await redis.get(`${keyPrefix}${what}:${id}`)) ?? 0);

  it("runs the handler exactly once for 50 concurrent deliveries split across two processes", async () => {
    const id = `evt_${randomUUID()}`;
    // The handler holds for a while, so that deliveries overlap with the one that runs it.
    const body = eventBody(
      "job.completed",
      { id: "job_1", status: "completed", delayMs: 1000 },
      id,
    );
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).send(signDelivery(body))),
    );
    const handled = responses.filter((r) => r.status === 200 && outcome(r) === "handled");
    const inFlight = responses.filter((r) => r.status === 409);
    const duplicates = responses.filter((r) => r.status === 200 && outcome(r) === "duplicate");
    expect(handled).toHaveLength(1);
    expect(inFlight.length + duplicates.length).toBe(49);
    expect(inFlight.length).toBeGreaterThan(0);
    for (const response of inFlight)
      expect(Number(response.headers["retry-after"])).toBeGreaterThan(0);
    expect(await count("attempts", id)).toBe(1);
    expect(await count("effects", id)).toBe(1);

    // A delivery after success, to either process: 200, and still one run.
    for (const receiver of [a, b]) {
      const later = await receiver.send(signDelivery(body));
      expect(later.status).toBe(200);
      expect(outcome(later)).toBe("duplicate");
    }
    expect(await count("effects", id)).toBe(1);
  }, 30_000);

  it("answers 500 when the handler throws, and the retry (on the other process) runs it once", async () => {
    const id = `evt_${randomUUID()}`;
    const body = eventBody(
      "job.completed",
      { id: "job_1", status: "completed", mode: "fail-first" },
      id,
    );
    const failed = await a.send(signDelivery(body));
    expect(failed.status).toBe(500);
    expect(await count("effects", id)).toBe(0);
    const retried = await b.send(signDelivery(body));
    expect([retried.status, outcome(retried)]).toEqual([200, "handled"]);
    const again = await a.send(signDelivery(body));
    expect([again.status, outcome(again)]).toEqual([200, "duplicate"]);
    expect(await count("attempts", id)).toBe(2);
    expect(await count("effects", id)).toBe(1);
  }, 30_000);

  it("keeps a slow handler's claim past its lease by renewing it, so no other process runs it", async () => {
    // Leases of one second, renewed by the core every third of that while the handler runs 3 s.
    const options = {
      redisUrl: server.url,
      keyPrefix,
      secret: CONFORMANCE_SECRET,
      leaseSeconds: 1,
    };
    const [slow, other] = await Promise.all([
      Receiver.start({ ...options, client: "ioredis" }),
      Receiver.start({ ...options, client: "redis" }),
    ]);
    extra.push(slow, other);
    const id = `evt_${randomUUID()}`;
    const body = eventBody(
      "job.completed",
      { id: "job_1", status: "completed", delayMs: 3000 },
      id,
    );
    const started = Date.now();
    const running = slow.send(signDelivery(body));
    // Well past the first lease and the next, the claim still holds on the other process.
    for (const at of [1500, 2500]) {
      await sleep(Math.max(0, started + at - Date.now()));
      const during = await other.send(signDelivery(body));
      expect(during.status).toBe(409);
      expect(await redis.pttl(`${keyPrefix}store:${id}`)).toBeGreaterThan(0);
    }
    const first = await running;
    expect([first.status, outcome(first)]).toEqual([200, "handled"]);
    const after = await other.send(signDelivery(body));
    expect([after.status, outcome(after)]).toEqual([200, "duplicate"]);
    expect(await count("attempts", id)).toBe(1);
    expect(await count("effects", id)).toBe(1);
  }, 30_000);

  it("lets the next delivery run an event whose claimant crashed, once its lease lapses", async () => {
    const crashing = await Receiver.start({
      redisUrl: server.url,
      keyPrefix,
      secret: CONFORMANCE_SECRET,
      client: "redis@4",
      leaseSeconds: 3,
    });
    extra.push(crashing);
    const id = `evt_${randomUUID()}`;
    const body = eventBody(
      "job.completed",
      { id: "job_1", status: "completed", mode: "crash" },
      id,
    );
    // The process dies mid-handler: the sender sees the connection drop, and will retry.
    await expect(crashing.send(signDelivery(body))).rejects.toThrow();
    expect((await crashing.exited).signal).toBe("SIGKILL");
    expect(await count("attempts", id)).toBe(1);

    // The dead process's lease still holds: the retry is told to come back later.
    const early = await a.send(signDelivery(body));
    expect(early.status).toBe(409);
    expect(await count("attempts", id)).toBe(1);

    // Wait for the lease to lapse, polled so that a slow machine cannot turn this into a flake.
    const deadline = Date.now() + 10_000;
    while ((await redis.pttl(`${keyPrefix}store:${id}`)) > 0 && Date.now() < deadline)
      await sleep(100);
    const retried = await b.send(signDelivery(body));
    expect([retried.status, outcome(retried)]).toEqual([200, "handled"]);
    expect(await count("attempts", id)).toBe(2);
    expect(await count("effects", id)).toBe(1);
  }, 30_000);
});
