// Queue mode's driver side: the contract a queue engine implements, the in-memory queue, and
// the pieces drivers share. Applications take createKallimaWorker from "@kallima/webhooks".
export { type BackoffOptions, backoffDelay } from "./queue/backoff.js";
export type {
  DeadLetter,
  DeadLetterFilter,
  EnqueueOutcome,
  QueueConsumeOptions,
  QueueConsumer,
  QueuedDelivery,
  QueueJob,
  QueueJobState,
  QueueProcessor,
  QueueStats,
  WebhookQueue,
} from "./queue/driver.js";
export { headerRecord } from "./queue/enqueue.js";
export { type MemoryQueueOptions, type MemoryWebhookQueue, memoryQueue } from "./queue/memory.js";
export {
  describeError,
  type LeasedJob,
  type PollingSettings,
  type PollingSource,
  pollingConsumer,
} from "./queue/polling.js";
export {
  createKallimaWorker,
  type KallimaWorker,
  type KallimaWorkerOptions,
  type WorkerFailureContext,
  type WorkerJobContext,
} from "./queue/worker.js";
