// A receiver process for the multi-instance tests: core's node:http handler with a Redis store.
// Each handler run counts its attempts and its effects in Redis, so that the test can count runs
// across processes. The event's data says how the handler behaves:
//   { mode: "fail-first" } throws on the event's first attempt across the fleet;
//   { mode: "crash" } kills this process mid-handler on the first attempt;
//   { delayMs } holds the handler open that long before its effect.
import { createServer } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { createWebhookHandler } from "@kallima/webhooks";
import { handleNodeRequest } from "@kallima/webhooks/node";
import { redisStore } from "../index.js";
import { CLIENT_KINDS, type ClientKind, connectClient } from "./clients.js";

const { REDIS_URL, CLIENT_KIND, KEY_PREFIX, LEASE_SECONDS, SECRET } = process.env;
if (!REDIS_URL || !KEY_PREFIX || !SECRET || !CLIENT_KINDS.includes(CLIENT_KIND as ClientKind)) {
  throw new Error("receiver needs REDIS_URL, CLIENT_KIND, KEY_PREFIX and SECRET");
}

const redis = await connectClient(CLIENT_KIND as ClientKind, REDIS_URL);
const store = redisStore(redis.client, {
  keyPrefix: `${KEY_PREFIX}store:`,
  ...(LEASE_SECONDS ? { leaseSeconds: Number(LEASE_SECONDS) } : {}),
});

interface Behaviour {
  mode?: "fail-first" | "crash";
  delayMs?: number;
}

const webhooks = createWebhookHandler({
  secret: SECRET,
  idempotency: { store },
  on: {
    "job.completed": async (event) => {
      const { mode, delayMs } = event.data as unknown as Behaviour;
      const attempt = await redis.incr(`${KEY_PREFIX}attempts:${event.id}`);
      if (mode === "crash" && attempt === 1) process.kill(process.pid, "SIGKILL");
      if (mode === "fail-first" && attempt === 1) throw new Error("first attempt fails");
      if (delayMs) await sleep(delayMs);
      await redis.incr(`${KEY_PREFIX}effects:${event.id}`);
    },
  },
});

const server = createServer((req, res) => void handleNodeRequest(webhooks, req, res));
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (address && typeof address === "object") console.log(`READY ${address.port}`);
});

process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  void redis.close().finally(() => process.exit(0));
});
