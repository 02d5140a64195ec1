import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { signDelivery } from "./index.js";

/** An example app started as its own process (examples/README.md contract). */
export interface RunningExample {
  /** Base URL from the ready line, e.g. `http://127.0.0.1:41234`. */
  url: string;
  stdout(): string;
  stderr(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts an example as a real process on a free port (`PORT=0`) and waits for its ready line.
 *
 * @example
 * ```ts
 * const app = await startExample({ args: ["dist/main.js"], cwd: exampleDir, env: { KALLIMA_WEBHOOK_SECRET } });
 * ```
 */
export async function startExample(options: {
  /** Arguments to the current `node`. */
  args: string[];
  cwd: string;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}): Promise<RunningExample> {
  const child: ChildProcess = spawn(process.execPath, options.args, {
    cwd: options.cwd,
    env: { ...process.env, PORT: "0", HOST: undefined, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ready line in time:\n${stdout}${stderr}`)),
      options.timeoutMs ?? 20_000,
    );
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
      const ready = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (ready) {
        clearTimeout(timer);
        resolveUrl(ready[1]!);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the app exited with ${code}:\n${stdout}${stderr}`));
    });
  });
  return {
    url,
    stdout: () => stdout,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}

/** Signs `payload` and POSTs it to `url`, optionally tampering with the body after signing. */
export async function deliverSigned(
  url: string,
  payload: object | string,
  options: { secret: string; timestamp?: number; tamper?: (body: string) => string },
): Promise<{ status: number; body: Record<string, unknown> }> {
  const text = typeof payload === "string" ? payload : JSON.stringify(payload);
  const signed = signDelivery(text, options);
  const body = options.tamper ? options.tamper(text) : text;
  const response = await fetch(url, { method: "POST", headers: signed.headers, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The events whose handler ran on a webhook route (`GET` on it, per the examples contract). */
export async function handledEvents(url: string): Promise<Array<{ id: string; type: string }>> {
  const response = await fetch(url);
  return ((await response.json()) as { events: Array<{ id: string; type: string }> }).events;
}
