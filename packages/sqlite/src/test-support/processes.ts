import { fileURLToPath } from "node:url";
import { QueueProcess } from "@kallima/webhooks-conformance/queue-process";

export { QueueProcess, readRuns } from "@kallima/webhooks-conformance/queue-process";

const SCRIPT = fileURLToPath(new URL("./queue-process.mjs", import.meta.url));

export interface ProcessOptions {
  role: "receiver" | "worker" | "both";
  queuePath: string;
  secret: string;
  log: string;
  leaseSeconds?: number;
  fixed?: boolean;
}

/** A receiver and/or worker on one SQLite queue file, in its own Node process (see queue-process.mjs). */
export function startQueueProcess(options: ProcessOptions): Promise<QueueProcess> {
  return QueueProcess.start({
    script: SCRIPT,
    role: options.role,
    env: {
      QUEUE_PATH: options.queuePath,
      SECRET: options.secret,
      LOG: options.log,
      ...(options.leaseSeconds ? { LEASE_SECONDS: String(options.leaseSeconds) } : {}),
      ...(options.fixed ? { FIXED: "1" } : {}),
    },
  });
}
