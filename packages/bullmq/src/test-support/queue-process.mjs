// A receiver or worker process on one BullMQ queue, for the fleet tests. ROLE says which:
// "receiver" (HTTP on a free port, prints READY <port>) or "worker" (prints WORKING). Every
// handler run appends {eventId, attempt, pid} to LOG: the tests' oracle. The event's data says
// how the handler behaves:
//   { mode: "crash" }       kills this process (SIGKILL) mid-handler on attempt 1;
//   { mode: "fail-twice" }  throws on attempts 1 and 2;
//   { mode: "poison" }      always throws, unless FIXED=1;
//   { delayMs }             holds the handler open that long.
import { appendFileSync } from "node:fs";
import { createServer } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { createKallimaWorker, createWebhookHandler } from "@kallima/webhooks";
import { handleNodeRequest } from "@kallima/webhooks/node";
import { bullmqQueue } from "@kallima/webhooks-bullmq";

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
  const run = async (event, { attempt }) => {
    appendFileSync(LOG, `${JSON.stringify({ eventId: event.id, attempt, pid: process.pid })}\n`);
    const { mode, delayMs } = event.data;
    if (mode === "crash" && attempt === 1) process.kill(process.pid, "SIGKILL");
    if (mode === "fail-twice" && attempt < 3) throw new Error(`fails on attempt ${attempt}`);
    if (mode === "poison" && FIXED !== "1") throw new Error("poison event");
    if (delayMs) await sleep(delayMs);
  };
  createKallimaWorker({
    queue,
    logger: false,
    attempts: 3,
    concurrency: 8,
    backoff: { initialMs: 50, maxMs: 100 },
    on: { "job.completed": run },
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
