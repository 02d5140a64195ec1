import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";

/** The ready line of the examples' contract: `listening on http://127.0.0.1:<port>`. */
export const READY_LINE = /listening on (https?:\/\/\S+)/;

const OUTPUT_LINES_KEPT = 60;

/** A started example that printed its ready line. */
export interface RunningChild {
  name: string;
  /** Process id of the shell that runs the script; also its process group id. */
  pid: number;
  /** The base URL from the ready line. */
  url: string;
  /** The last lines it printed (stdout and stderr), for diagnostics. */
  output(): string;
}

/** Why an example could not be started. */
export class ChildStartError extends Error {
  readonly output: string;

  constructor(message: string, output: string) {
    super(message);
    this.name = "ChildStartError";
    this.output = output;
  }
}

export interface StartChildOptions {
  name: string;
  /** Working directory (the example's directory). */
  cwd: string;
  /** A package.json script, run by `sh -c` as a package manager would. */
  script: string;
  env: NodeJS.ProcessEnv;
  readyTimeoutMs: number;
  /** Each line the child prints. */
  onLine?: (line: string) => void;
}

/**
 * Starts child processes, each in its own process group so that everything a script spawns
 * (`next build`, then `next start`, its workers…) can be stopped together, and stops them all
 * on any way out: normal end, failure, Ctrl-C, SIGTERM, or an uncaught error.
 */
export class ChildGroup {
  readonly #children = new Map<number, ChildProcess>();
  #stopping: Promise<void> | undefined;

  /** Spawns `script` and resolves once it prints the ready line. */
  start(options: StartChildOptions): Promise<RunningChild> {
    if (this.#stopping) return Promise.reject(new Error("The demo is stopping."));
    const child = spawn("sh", ["-c", options.script], {
      cwd: options.cwd,
      env: options.env,
      // A new process group, led by the shell: kill(-pid) then reaches every descendant.
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const pid = child.pid;
    if (pid === undefined) {
      return Promise.reject(new ChildStartError(`${options.name}: could not spawn sh.`, ""));
    }
    this.#children.set(pid, child);
    child.once("exit", () => this.#children.delete(pid));

    const lines: string[] = [];
    const output = () => lines.join("\n");
    const keep = (line: string) => {
      lines.push(line);
      if (lines.length > OUTPUT_LINES_KEPT) lines.shift();
      options.onLine?.(line);
    };

    return new Promise<RunningChild>((resolve, reject) => {
      let settled = false;
      const settle = (action: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        action();
      };
      const timer = setTimeout(() => {
        settle(() =>
          reject(
            new ChildStartError(
              `${options.name}: no ready line ("listening on http://…") within ${Math.round(options.readyTimeoutMs / 1000)} s.`,
              output(),
            ),
          ),
        );
      }, options.readyTimeoutMs);

      createInterface({ input: child.stdout }).on("line", (line) => {
        keep(line);
        const ready = READY_LINE.exec(line);
        if (ready) {
          settle(() => resolve({ name: options.name, pid, url: ready[1]!, output }));
        }
      });
      createInterface({ input: child.stderr }).on("line", keep);
      child.once("error", (error) => {
        settle(() => reject(new ChildStartError(`${options.name}: ${error.message}`, output())));
      });
      child.once("exit", (code, signal) => {
        // Let the last lines through the readline interfaces before reporting.
        setImmediate(() =>
          settle(() =>
            reject(
              new ChildStartError(
                `${options.name}: exited before it was ready (${signal ?? `exit code ${code}`}).`,
                output(),
              ),
            ),
          ),
        );
      });
    });
  }

  /** Runs `command` to the end (in its own process group, stopped with the rest) and resolves to its exit code and last lines. */
  run(options: {
    cwd: string;
    command: string;
    args: string[];
    env: NodeJS.ProcessEnv;
    onLine?: (line: string) => void;
  }): Promise<{ code: number; output: string }> {
    if (this.#stopping) return Promise.reject(new Error("The demo is stopping."));
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines: string[] = [];
    const keep = (line: string) => {
      lines.push(line);
      if (lines.length > OUTPUT_LINES_KEPT) lines.shift();
      options.onLine?.(line);
    };
    createInterface({ input: child.stdout }).on("line", keep);
    createInterface({ input: child.stderr }).on("line", keep);
    if (child.pid !== undefined) {
      const pid = child.pid;
      this.#children.set(pid, child);
      child.once("exit", () => this.#children.delete(pid));
    }
    return new Promise((resolve) => {
      child.once("error", (error) => {
        keep(error.message);
        resolve({ code: -1, output: lines.join("\n") });
      });
      child.once("close", (code, signal) => {
        resolve({ code: code ?? (signal ? 128 : -1), output: lines.join("\n") });
      });
    });
  }

  /** Whether {@link stopAll} was called: children exiting now were stopped, they did not fail. */
  get stopping(): boolean {
    return this.#stopping !== undefined;
  }

  /** Process group ids still running. */
  get pids(): number[] {
    return [...this.#children.keys()];
  }

  /** SIGTERM to every group, then SIGKILL to what is left after `graceMs`. */
  stopAll(graceMs = 5000): Promise<void> {
    this.#stopping ??= this.#stop(graceMs);
    return this.#stopping;
  }

  async #stop(graceMs: number): Promise<void> {
    const groups = this.pids;
    for (const pid of groups) signalGroup(pid, "SIGTERM");
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && groups.some(groupAlive)) await sleep(50);
    for (const pid of groups) if (groupAlive(pid)) signalGroup(pid, "SIGKILL");
    while (groups.some(groupAlive) && Date.now() < deadline + 2000) await sleep(50);
  }

  /** Last resort from a synchronous `exit` handler: no waiting is possible there. */
  killAllNow(): void {
    for (const pid of this.pids) signalGroup(pid, "SIGKILL");
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the whole group is already gone.
  }
}

/**
 * Whether any process of group `pid` is still alive. A zombie (exited, not yet reaped, which
 * happens under a container init that does not reap) has stopped: it does not count.
 */
export function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
  if (!existsSync("/proc")) return true;
  return readdirSync("/proc").some((entry) => {
    if (!/^\d+$/.test(entry)) return false;
    const stat = procStat(entry);
    return stat !== undefined && stat.pgrp === pid && stat.state !== "Z";
  });
}

function procStat(entry: string): { state: string; pgrp: number } | undefined {
  try {
    const text = readFileSync(`/proc/${entry}/stat`, "utf8");
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0] ?? "", pgrp: Number(fields[2]) };
  } catch {
    return undefined;
  }
}
