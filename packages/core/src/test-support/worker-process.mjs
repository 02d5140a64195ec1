// A worker process for the graceful-shutdown test: one slow job; the test sends SIGTERM while
// it runs. The worker must let it finish, record it done, then exit 0 by itself.
import { createKallimaWorker } from "@kallima/webhooks";
import { memoryQueue } from "@kallima/webhooks/queue";

const queue = memoryQueue();
process.on("exit", () => {
  process.stdout.write(`${JSON.stringify(queue.jobs())}\n`);
});
createKallimaWorker({
  queue,
  on: {
    "job.completed": async () => {
      process.stdout.write("started\n");
      await new Promise((resolve) => setTimeout(resolve, 500));
      process.stdout.write("finished\n");
    },
  },
});
await queue.enqueue({
  eventId: "evt_sigterm",
  eventType: "job.completed",
  rawBody: JSON.stringify({ id: "evt_sigterm", type: "job.completed", data: { id: "job_1" } }),
  headers: {},
  receivedAt: Date.now(),
});
// Keeps the process alive like a server would, until the worker exits it.
setInterval(() => {}, 1_000);
