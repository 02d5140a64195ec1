// A receiver or worker process on one BullMQ queue, for the fleet tests. ROLE says which:
// "receiver" (HTTP on a free port, prints READY <port>) or "worker" (prints WORKING). The
// handler (faultInjectingHandler) logs every run to LOG and misbehaves as the event's data says.
import { createServer } from "node:http";
import { createKallimaWorker, createWebhookHandler } from "@kallima/webhooks";
import { handleNodeRequest } from "@kallima/webhooks/node";
import { bullmqQueue } from "@kallima/webhooks-bullmq";
import { faultInjectingHandler } from "@kallima/webhooks-conformance/queue-fault-handler";

const { ROLE, REDIS_PORT, QUEUE_NAME, SECRET, LOG, FIXED } = process.env;
if (!ROLE || !REDIS_PORT || !QUEUE_NAME || !SECRET || !LOG) {
  throw new Error("queue-process needs ROLE, REDIS_PORT, QUEUE_NAME, SECRET and LOG");
}
const queue = bullmqQueue({
  connection: { host: "127.0.0.1", port: Number(REDIS_PORT) },
  name: QUEUE_NAME,
  lockDurationMs: 1_000,
  stalledIntervalMs: 500,
});

if (ROLE === "worker") {
  createKallimaWorker({
    queue,
    logger: false,
    attempts: 3,
    concurrency: 8,
    backoff: { initialMs: 50, maxMs: 100 },
    on: { "job.completed": faultInjectingHandler({ log: LOG, fixed: FIXED === "1" }) },
  });
  console.log("WORKING");
} else {
  const webhooks = createWebhookHandler({
    secret: SECRET,
    queue,
    logger: false,
    deadlineMs: 2_000,
  });
  const server = createServer((req, res) => void handleNodeRequest(webhooks, req, res));
  server.listen(0, "127.0.0.1", () => console.log(`READY ${server.address().port}`));
}
