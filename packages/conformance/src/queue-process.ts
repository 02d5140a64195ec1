import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";

/**
 * How a queue test process is started. The script is told everything through `env` and says
 * it is ready on stdout: a worker prints `WORKING`, any other role `READY <port>`.
 */
export interface QueueProcessStart {
  /** Path of the `.mjs` script run by the current `node`. */
  script: string;
  role: string;
  env: Record<string, string | undefined>;
}

/**
 * A queue receiver and/or worker in its own Node process, for the crash and fleet tests of a
 * queue driver.
 *
 * @example
 * ```ts
 * const worker = await QueueProcess.start({ script, role: "worker", env: { QUEUE_PATH, LOG } });
 * await worker.kill();
 * ```
 */
export class QueueProcess {
  private constructor(
    private readonly child: ChildProcess,
    /** The receiver's HTTP port; undefined for a worker. */
    readonly port: number | undefined,
  ) {}

  static async start(options: QueueProcessStart): Promise<QueueProcess> {
    const child = spawn(process.execPath, [options.script], {
      env: { ...process.env, ROLE: options.role, ...options.env },
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

/** One handler run, as a queue test process appends it to its log (one JSON object a line). */
export interface HandlerRun {
  eventId: string;
  attempt: number;
  pid: number;
}

/** The handler runs logged so far. */
export function readRuns(log: string): HandlerRun[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as HandlerRun);
}
