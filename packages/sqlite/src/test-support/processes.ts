import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("./queue-process.mjs", import.meta.url));

export interface ProcessOptions {
  role: "receiver" | "worker" | "both";
  queuePath: string;
  secret: string;
  log: string;
  leaseSeconds?: number;
  fixed?: boolean;
}

/** A receiver or worker in its own Node process. */
export class QueueProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number | undefined,
  ) {}

  static async start(options: ProcessOptions): Promise<QueueProcess> {
    const child = spawn(process.execPath, [SCRIPT], {
      env: {
        ...process.env,
        ROLE: options.role,
        QUEUE_PATH: options.queuePath,
        SECRET: options.secret,
        LOG: options.log,
        ...(options.leaseSeconds ? { LEASE_SECONDS: String(options.leaseSeconds) } : {}),
        ...(options.fixed ? { FIXED: "1" } : {}),
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const wanted = options.role === "worker" ? /WORKING/ : /READY (\d+)/;
    const port = await new Promise<number | undefined>((resolve, reject) => {
      let output = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        const match = wanted.exec(output);
        if (match) resolve(match[1] ? Number(match[1]) : undefined);
      });
      child.once("exit", (code) => reject(new Error(`exited with ${code} before ready`)));
    });
    return new QueueProcess(child, port);
  }

  /** POSTs a delivery to this receiver. */
  async send(headers: Record<string, string>, body: string) {
    const response = await fetch(`http://127.0.0.1:${this.port}/`, {
      method: "POST",
      headers,
      body,
    });
    return { status: response.status, body: await response.text() };
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Waits for the process to end by itself (a handler that kills it). */
  async waitForExit(): Promise<NodeJS.Signals | null> {
    if (this.exited) return this.child.signalCode;
    const [, signal] = (await once(this.child, "exit")) as [number | null, NodeJS.Signals | null];
    return signal;
  }

  /** kill -9. */
  async kill(): Promise<void> {
    if (this.exited) return;
    const exited = once(this.child, "exit");
    this.child.kill("SIGKILL");
    await exited;
  }
}

/** The handler runs logged so far. */
export function readRuns(log: string): Array<{ eventId: string; attempt: number; pid: number }> {
  if (!existsSync(log)) return [];
  return readFileSync(log, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { eventId: string; attempt: number; pid: number });
}
