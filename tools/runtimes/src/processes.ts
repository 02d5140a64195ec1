// Child processes: each in its own process group, so that npx and the runtime it starts are
// stopped together, and none outlives this one.
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";

/** How long a process may take to start serving or to finish (installs excepted). */
export const START_TIMEOUT_MS = 60_000;

export interface Started {
  child: ChildProcess;
  /** Everything it wrote so far. */
  output: { stdout: string; stderr: string };
  /** Its exit code (null when a signal ended it). */
  exited: Promise<number | null>;
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

const children = new Set<ChildProcess>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

process.on("exit", () => {
  for (const child of children) killGroup(child, "SIGKILL");
});

/** Starts `command` with `args` appended, in its own process group. */
export function start(
  command: readonly string[],
  args: readonly string[],
  options: { cwd: string; env?: Readonly<Record<string, string>> },
): Started {
  const [file, ...rest] = command;
  if (file === undefined) throw new Error("empty command");
  const child = spawn(file, [...rest, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const output = { stdout: "", stderr: "" };
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    output.stdout += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    output.stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on("close", (code) => resolve(code));
    // A binary that cannot be spawned at all: "close" follows "error" then, with no code.
    child.on("error", (error) => {
      output.stderr += `${error.message}\n`;
    });
  });
  children.add(child);
  void exited.then(() => children.delete(child));
  return { child, output, exited };
}

/** SIGTERM to the process group, SIGKILL after 3 s; resolves when it has exited. */
export async function stop(proc: Started): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  killGroup(proc.child, "SIGTERM");
  const timer = setTimeout(() => killGroup(proc.child, "SIGKILL"), 3000);
  await proc.exited;
  clearTimeout(timer);
}

/** Runs a command to completion, stopping it after `timeoutMs`. */
export async function run(
  command: readonly string[],
  args: readonly string[],
  options: { cwd: string; timeoutMs?: number; env?: Readonly<Record<string, string>> },
): Promise<Finished> {
  const proc = start(command, args, options);
  const timer = setTimeout(() => void stop(proc), options.timeoutMs ?? START_TIMEOUT_MS);
  const code = await proc.exited;
  clearTimeout(timer);
  return { code, ...proc.output };
}

/** Output without blank lines and npm's warnings, for error messages. */
export const noise = (text: string): string =>
  text
    .split("\n")
    .filter((line) => line.trim() && !line.startsWith("npm warn"))
    .join("\n");

/** The last 800 characters a process wrote, for an error message. */
export const tail = (proc: Started): string =>
  noise(proc.output.stdout + proc.output.stderr).slice(-800);

/** An error's message, for a report line. */
export const message = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error("no port"))));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits for the examples' `listening on http://127.0.0.1:<port>` line; returns that URL. */
export async function waitForReadyLine(proc: Started): Promise<string> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(proc.output.stdout);
    if (match?.[1]) return match[1];
    if (proc.child.exitCode !== null) break;
    await sleep(50);
  }
  throw new Error(`no ready line: ${tail(proc)}`);
}

/** Fetches `url` until it answers (or the process exits, or the start timeout passes). */
export async function waitForHttp(url: string, proc: Started): Promise<Response> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) break;
    try {
      return await fetch(url);
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`${url} never answered: ${tail(proc)}`);
}
