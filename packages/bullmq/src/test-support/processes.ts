import { fileURLToPath } from "node:url";
import { QueueProcess } from "@kallima/webhooks-conformance/queue-process";

export { QueueProcess, readRuns } from "@kallima/webhooks-conformance/queue-process";

const SCRIPT = fileURLToPath(new URL("./queue-process.mjs", import.meta.url));

export interface ProcessOptions {
  role: "receiver" | "worker";
  redisPort: number;
  queueName: string;
  secret: string;
  log: string;
  fixed?: boolean;
}

/** A receiver or worker on one BullMQ queue, in its own Node process (see queue-process.mjs). */
export function startQueueProcess(options: ProcessOptions): Promise<QueueProcess> {
  return QueueProcess.start({
    script: SCRIPT,
    role: options.role,
    env: {
      REDIS_PORT: String(options.redisPort),
      QUEUE_NAME: options.queueName,
      SECRET: options.secret,
      LOG: options.log,
      ...(options.fixed ? { FIXED: "1" } : {}),
    },
  });
}
