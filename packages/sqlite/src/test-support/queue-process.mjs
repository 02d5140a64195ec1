// A receiver and/or worker process on one SQLite queue file, for the crash tests. ROLE says
// which: "receiver" (HTTP on a free port, prints READY <port>), "worker", or "both". The
// handler (faultInjectingHandler) logs every run to LOG and misbehaves as the event's data says.
import { createServer } from "node:http";
import { createKallimaWorker, createWebhookHandler } from "@kallima/webhooks";
import { handleNodeRequest } from "@kallima/webhooks/node";
import { faultInjectingHandler } from "@kallima/webhooks-conformance/queue-fault-handler";
import { sqliteQueue } from "@kallima/webhooks-sqlite";

const { ROLE, QUEUE_PATH, SECRET, LOG, LEASE_SECONDS, FIXED, CONCURRENCY } = process.env;
if (!ROLE || !QUEUE_PATH || !SECRET || !LOG) {
  throw new Error("queue-process needs ROLE, QUEUE_PATH, SECRET and LOG");
}
const queue = sqliteQueue({
  path: QUEUE_PATH,
  pollMs: 20,
  ...(LEASE_SECONDS ? { leaseSeconds: Number(LEASE_SECONDS) } : {}),
});

if (ROLE === "worker" || ROLE === "both") {
  createKallimaWorker({
    queue,
    logger: false,
    attempts: 3,
    concurrency: Number(CONCURRENCY ?? 4),
    backoff: { initialMs: 50, maxMs: 100 },
    on: { "job.completed": faultInjectingHandler({ log: LOG, fixed: FIXED === "1" }) },
  });
  console.log("WORKING");
}

if (ROLE === "receiver" || ROLE === "both") {
  const webhooks = createWebhookHandler({ secret: SECRET, queue, logger: false });
  const server = createServer((req, res) => void handleNodeRequest(webhooks, req, res));
  server.listen(0, "127.0.0.1", () => console.log(`READY ${server.address().port}`));
}
