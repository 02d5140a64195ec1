import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { type KallimaDelivery, kallimaDelivery } from "../payload.js";
import { STATS_PATH, WEBHOOK_PATH } from "./common.js";

export const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface HttpSettings {
  /** Seconds per measured run (ignored when `amount` is set). */
  durationSeconds: number;
  /** Seconds of unmeasured load before the first run against each server. */
  warmupSeconds: number;
  connections: number;
  /** Measured runs per server; floor and adapter alternate. */
  rounds: number;
  /** Body size of every request. */
  bodyBytes: number;
  /** Distinct signed deliveries cycled through: more than the adapters' default store bound. */
  poolSize: number;
  /** Smoke mode: a fixed number of requests per run instead of a duration. */
  amount?: number;
}

export interface LoadStats {
  /** Mean requests per second over the run's one-second samples (or overall, for short runs). */
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  responses2xx: number;
  /** Events the server says it handled during the run: at least one per 2xx, so no duplicates. */
  handled: number;
}

/** A server process of `src/http/server.ts` or `next start`, ready to take requests. */
export interface RunningServer {
  url: string;
  statsUrl: string;
  stop: () => Promise<void>;
}

/** Starts a child process and waits for it to print `READY <port>` (or `readyPattern`). */
export async function startProcess(options: {
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  readyPattern: RegExp;
  timeoutMs: number;
  webhookPath?: string;
  statsPath?: string;
  port?: number;
}): Promise<RunningServer> {
  const child = spawn(options.command, options.args, {
    cwd: options.cwd ?? PACKAGE_DIR,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      fail(new Error(`Server did not get ready within ${options.timeoutMs} ms.`));
    }, options.timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`${error.message}\n${output.slice(-4000)}`));
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const match = options.readyPattern.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(options.port ?? Number(match[1]));
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    child.once("exit", (code, signal) => fail(new Error(`Server exited (${code ?? signal}).`)));
    child.once("error", fail);
  });
  // Keep draining output so that a chatty server never blocks on a full pipe.
  child.stdout!.resume();
  child.stderr!.resume();
  const base = `http://127.0.0.1:${port}`;
  return {
    url: `${base}${options.webhookPath ?? WEBHOOK_PATH}`,
    statsUrl: `${base}${options.statsPath ?? STATS_PATH}`,
    stop: () => stopProcess(child),
  };
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** A framework server of `src/http/server.ts`. */
export function startBenchServer(framework: string, mode: "floor" | "adapter") {
  const tsx = join(PACKAGE_DIR, "node_modules", "tsx", "dist", "loader.mjs");
  const loader = existsSync(tsx) ? tsx : "tsx";
  return startProcess({
    command: process.execPath,
    args: ["--import", loader, join(PACKAGE_DIR, "src", "http", "server.ts"), framework, mode],
    readyPattern: /READY (\d+)/,
    timeoutMs: 30_000,
  });
}

async function handledSoFar(server: RunningServer): Promise<number> {
  const response = await fetch(server.statsUrl);
  if (!response.ok) throw new Error(`${server.statsUrl} answered ${response.status}.`);
  return ((await response.json()) as { handled: number }).handled;
}

/** Signed deliveries to cycle through, one cursor per server so that each sees distinct ids. */
export function deliveryPool(settings: HttpSettings, tag: string): KallimaDelivery[] {
  return Array.from({ length: settings.poolSize }, (_, i) =>
    kallimaDelivery(settings.bodyBytes, `evt_http_${tag}_${i}`),
  );
}

export function cursor(pool: readonly KallimaDelivery[]): () => KallimaDelivery {
  let next = 0;
  return () => pool[next++ % pool.length]!;
}

/** One autocannon run against `server`; throws unless every answer was a 2xx that ran a handler. */
export async function load(
  server: RunningServer,
  nextDelivery: () => KallimaDelivery,
  settings: HttpSettings,
  seconds: number,
): Promise<LoadStats> {
  const before = await handledSoFar(server);
  const result = await autocannon({
    url: server.url,
    method: "POST",
    connections: settings.connections,
    ...(settings.amount === undefined ? { duration: seconds } : { amount: settings.amount }),
    requests: [
      {
        setupRequest: (request) => {
          const delivery = nextDelivery();
          return {
            ...request,
            method: "POST",
            body: delivery.body.toString("utf8"),
            headers: {
              "content-type": "application/json",
              "x-kallima-signature": delivery.signature,
              "x-kallima-timestamp": delivery.timestamp,
            },
          };
        },
      },
    ],
  });
  const handled = (await handledSoFar(server)) - before;
  const ok = result["2xx"];
  if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0 || ok === 0) {
    throw new Error(
      `${server.url}: ${ok} 2xx, ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts.`,
    );
  }
  if (handled < ok) {
    throw new Error(`${server.url}: ${ok} 2xx but only ${handled} events handled (duplicates?).`);
  }
  const elapsedSeconds = Math.max(result.duration, 1e-3);
  return {
    requestsPerSec: settings.amount === undefined ? result.requests.average : ok / elapsedSeconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    responses2xx: ok,
    handled,
  };
}
