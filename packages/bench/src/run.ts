import { existsSync, readFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { join } from "node:path";
import { type BundleResult, benchBundle } from "./bundle.js";
import { benchHttp, FRAMEWORKS, type Framework, type FrameworkResult } from "./http/index.js";
import { type HttpSettings, PACKAGE_DIR } from "./http/load.js";
import type { MeasureSettings } from "./measure.js";
import { benchMemory, type MemoryResult } from "./memory.js";
import { benchQueue, type QueueBenchResult } from "./queue/index.js";
import {
  type BenchRuntimeId,
  benchRuntimes,
  type RuntimeBenchResult,
  type RuntimeBenchSettings,
} from "./runtimes/index.js";
import { benchHandle, benchVerification, type SizeResult } from "./verification.js";

export const PARTS = [
  "verification",
  "handle",
  "http",
  "memory",
  "queue",
  "runtimes",
  "bundle",
] as const;
export type Part = (typeof PARTS)[number];

export interface BenchOptions {
  /** Tiny iteration counts, to prove the bench still runs; its numbers mean nothing. */
  smoke?: boolean;
  parts?: readonly Part[];
  log?: (line: string) => void;
  frameworks?: readonly Framework[];
  /** Framework names to leave out of part 3 (reported as skipped). */
  skipFrameworks?: readonly string[];
  /** Runtimes of part 6 to run (default: all). */
  runtimes?: readonly BenchRuntimeId[];
}

export interface BenchSettings {
  measure: MeasureSettings;
  http: HttpSettings;
  memory: { events: number; maxEntries?: number };
  queue: { jobs: number; concurrency: number };
  runtimes: RuntimeBenchSettings;
}

export interface BenchResults {
  meta: {
    date: string;
    smoke: boolean;
    node: string;
    v8: string;
    platform: string;
    kernel: string;
    cpu: string;
    cores: number;
    memoryGiB: number;
    loadAverageAtStart: number[];
    durationSeconds: number;
    settings: BenchSettings;
    packages: Record<string, string>;
  };
  verification?: SizeResult[];
  handle?: SizeResult[];
  http?: FrameworkResult[];
  memory?: MemoryResult;
  queue?: QueueBenchResult;
  runtimes?: RuntimeBenchResult[];
  bundle?: BundleResult;
}

export function settingsFor(smoke: boolean): BenchSettings {
  if (smoke) {
    return {
      measure: { timeMs: 5, warmupMs: 0, minSamples: 2, rounds: 1 },
      http: {
        durationSeconds: 1,
        warmupSeconds: 0,
        connections: 2,
        rounds: 1,
        bodyBytes: 1024,
        poolSize: 100,
        amount: 20,
      },
      memory: { events: 3000, maxEntries: 500 },
      queue: { jobs: 50, concurrency: 4 },
      runtimes: { rounds: 1, batchMs: 2 },
    };
  }
  return {
    // Many short rounds rather than a few long ones: load on a shared machine changes by the
    // second, and each round pairs every case with a floor measured moments apart.
    measure: { timeMs: 150, warmupMs: 50, minSamples: 5, rounds: 10 },
    http: {
      // Eight short alternating rounds rather than three long ones: one round's ratio moved by
      // ±30 % on this shared 2-core machine, and the median of three followed it.
      durationSeconds: 2,
      warmupSeconds: 1,
      connections: 10,
      rounds: 8,
      bodyBytes: 1024,
      // Above the adapters' default memory store bound (10,000), so no request is a duplicate.
      poolSize: 12_000,
    },
    memory: { events: 100_000 },
    queue: { jobs: 5_000, concurrency: 16 },
    // Batches long enough that the HTTP round trip (workerd is timed from outside) is small.
    runtimes: { rounds: 8, batchMs: 150 },
  };
}

function versions(): Record<string, string> {
  const names = [
    "@kallima/webhooks",
    "svix",
    "standardwebhooks",
    "stripe",
    "@octokit/webhooks-methods",
    "tinybench",
    "autocannon",
    "express",
    "hono",
    "@hono/node-server",
    "h3",
    ...new Set(FRAMEWORKS.map((framework) => framework.adapter)),
  ];
  const found: Record<string, string> = {};
  for (const name of names) {
    const manifest = join(PACKAGE_DIR, "node_modules", ...name.split("/"), "package.json");
    found[name] = existsSync(manifest)
      ? (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version
      : "not installed";
  }
  return found;
}

/** Runs the parts asked for, in order, and returns every number measured. */
export async function runBench(options: BenchOptions = {}): Promise<BenchResults> {
  const smoke = options.smoke ?? false;
  const parts = options.parts ?? PARTS;
  const log = options.log ?? ((line: string) => console.log(line));
  const settings = settingsFor(smoke);
  const started = performance.now();
  const cpuList = cpus();
  const results: BenchResults = {
    meta: {
      date: new Date().toISOString(),
      smoke,
      node: process.version,
      v8: process.versions.v8,
      platform: `${process.platform} ${process.arch}`,
      kernel: release(),
      cpu: cpuList[0]?.model.trim() ?? "unknown",
      cores: cpuList.length,
      memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
      loadAverageAtStart: loadavg().map((value) => Math.round(value * 100) / 100),
      durationSeconds: 0,
      settings,
      packages: versions(),
    },
  };
  if (parts.includes("verification")) {
    log("## 1. verification");
    results.verification = await benchVerification(settings.measure, log);
  }
  if (parts.includes("handle")) {
    log("## 2. handle()");
    results.handle = await benchHandle(settings.measure, log);
  }
  if (parts.includes("http")) {
    log("## 3. adapters over HTTP");
    results.http = await benchHttp(
      settings.http,
      log,
      options.frameworks ?? FRAMEWORKS,
      options.skipFrameworks,
    );
  }
  if (parts.includes("memory")) {
    log("## 4. memory");
    results.memory = await benchMemory(settings.memory.events, settings.memory.maxEntries);
    const m = results.memory;
    log(
      `memory: ${m.events} events, store bound ${m.maxEntries}, size after ${m.storeSizeAfter}, ` +
        `heap +${(m.growthAfterFull / 1024).toFixed(0)} KiB after the store was full (${m.withinBound ? "within bound" : "NOT within bound"})`,
    );
    if (!m.withinBound) throw new Error("The memory store grew past its configured bound.");
  }
  if (parts.includes("queue")) {
    log("## 5. queue mode");
    results.queue = await benchQueue({ http: settings.http, ...settings.queue }, log);
  }
  if (parts.includes("runtimes")) {
    log("## 6. other runtimes");
    results.runtimes = await benchRuntimes(settings.runtimes, log, options.runtimes);
  }
  if (parts.includes("bundle")) {
    log("## 7. edge bundle");
    results.bundle = await benchBundle(log);
  }
  results.meta.durationSeconds = Math.round((performance.now() - started) / 100) / 10;
  return results;
}
