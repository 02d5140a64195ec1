import { existsSync } from "node:fs";
import { join } from "node:path";
import { median } from "../measure.js";
import {
  cursor,
  deliveryPool,
  type HttpSettings,
  type LoadStats,
  load,
  PACKAGE_DIR,
  type RunningServer,
  startBenchServer,
} from "./load.js";
import { startNext } from "./next.js";

export interface Framework {
  name: string;
  label: string;
  /** The adapter package the "adapter" server uses. */
  adapter: string;
  /** Starts the floor and adapter servers (both stay up; runs alternate between them). */
  start: (mode: "floor" | "adapter", log: (line: string) => void) => Promise<RunningServer>;
}

export interface ServerResult {
  requestsPerSec: number;
  p99Ms: number;
  p50Ms: number;
  runs: LoadStats[];
}

export type FrameworkResult =
  | {
      name: string;
      label: string;
      adapter: string;
      status: "measured";
      floor: ServerResult;
      adapterResult: ServerResult;
      ratio: number;
    }
  | {
      name: string;
      label: string;
      adapter: string;
      /** Skipped: the adapter is not in this checkout. Failed: it is, and its run broke. */
      status: "skipped" | "failed";
      reason: string;
    };

export const FRAMEWORKS: Framework[] = [
  {
    name: "express",
    label: "Express 5",
    adapter: "@kallima/webhooks-express",
    start: (mode) => startBenchServer("express", mode),
  },
  {
    name: "hono",
    label: "Hono on @hono/node-server",
    adapter: "@kallima/webhooks-hono",
    start: (mode) => startBenchServer("hono", mode),
  },
  {
    name: "h3",
    label: "h3 1.x on its Node listener",
    adapter: "@kallima/webhooks-h3",
    start: (mode) => startBenchServer("h3", mode),
  },
  {
    name: "h3-v2",
    label: "h3 2 on its Node listener",
    adapter: "@kallima/webhooks-h3",
    start: (mode) => startBenchServer("h3-v2", mode),
  },
  {
    name: "lambda",
    label: "AWS Lambda handler, HTTP API event via a local bridge",
    adapter: "@kallima/webhooks-lambda",
    start: (mode) => startBenchServer("lambda", mode),
  },
  {
    name: "nest-express",
    label: "NestJS, Express platform",
    adapter: "@kallima/webhooks-nest",
    start: (mode) => startBenchServer("nest-express", mode),
  },
  {
    name: "nest-fastify",
    label: "NestJS, Fastify platform",
    adapter: "@kallima/webhooks-nest",
    start: (mode) => startBenchServer("nest-fastify", mode),
  },
  {
    name: "fastify",
    label: "Fastify 5",
    adapter: "@kallima/webhooks-fastify",
    start: (mode) => startBenchServer("fastify", mode),
  },
  {
    name: "koa",
    label: "Koa 3 with @koa/router",
    adapter: "@kallima/webhooks-koa",
    start: (mode) => startBenchServer("koa", mode),
  },
  {
    name: "next",
    label: "Next.js App Router, next start",
    adapter: "@kallima/webhooks-next",
    start: (mode, log) => startNext(mode, log),
  },
];

/** Why an adapter cannot be measured in this checkout, or undefined when it can. */
export async function unavailable(adapter: string): Promise<string | undefined> {
  if (!existsSync(join(PACKAGE_DIR, "node_modules", ...adapter.split("/"), "package.json"))) {
    return `${adapter} is not a dependency of packages/bench yet (the adapter did not exist when the bench was written)`;
  }
  try {
    await import(/* @vite-ignore */ adapter);
    return undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return `${adapter} could not be loaded (not built? run \`pnpm build\`): ${message}`;
  }
}

function summarize(runs: LoadStats[]): ServerResult {
  return {
    requestsPerSec: median(runs.map((run) => run.requestsPerSec)),
    p99Ms: median(runs.map((run) => run.p99Ms)),
    p50Ms: median(runs.map((run) => run.p50Ms)),
    runs,
  };
}

/**
 * Part 3: for each framework, its hand-written floor route and the adapter, end to end over
 * loopback HTTP with autocannon. Runs alternate floor, adapter, adapter, floor… so that drift
 * on a shared machine weighs on both alike.
 */
export async function benchHttp(
  settings: HttpSettings,
  log: (line: string) => void,
  frameworks: readonly Framework[] = FRAMEWORKS,
  skip: readonly string[] = [],
): Promise<FrameworkResult[]> {
  const results: FrameworkResult[] = [];
  for (const framework of frameworks) {
    const base = { name: framework.name, label: framework.label, adapter: framework.adapter };
    const reason = skip.includes(framework.name)
      ? `left out by BENCH_SKIP=${skip.join(",")}`
      : await unavailable(framework.adapter);
    if (reason) {
      log(`http ${framework.label}: SKIPPED: ${reason}`);
      results.push({ ...base, status: "skipped", reason });
      continue;
    }
    const servers: Partial<Record<"floor" | "adapter", RunningServer>> = {};
    try {
      servers.floor = await framework.start("floor", log);
      servers.adapter = await framework.start("adapter", log);
      const next = {
        floor: cursor(deliveryPool(settings, `${framework.name}_floor`)),
        adapter: cursor(deliveryPool(settings, `${framework.name}_adapter`)),
      };
      const runs: Record<"floor" | "adapter", LoadStats[]> = { floor: [], adapter: [] };
      for (const mode of ["floor", "adapter"] as const) {
        if (settings.warmupSeconds > 0 || settings.amount !== undefined) {
          await load(servers[mode]!, next[mode], settings, settings.warmupSeconds);
        }
      }
      for (let round = 0; round < settings.rounds; round += 1) {
        const order =
          round % 2 === 0 ? (["floor", "adapter"] as const) : (["adapter", "floor"] as const);
        for (const mode of order) {
          runs[mode].push(
            await load(servers[mode]!, next[mode], settings, settings.durationSeconds),
          );
        }
      }
      const floor = summarize(runs.floor);
      const adapterResult = summarize(runs.adapter);
      // Paired by round, as in parts 1 and 2: both servers of a round saw the same load.
      const ratio = median(
        runs.adapter.map((run, round) => run.requestsPerSec / runs.floor[round]!.requestsPerSec),
      );
      log(
        `http ${framework.label}: floor ${Math.round(floor.requestsPerSec)} req/s p99 ${floor.p99Ms} ms, ` +
          `${framework.adapter} ${Math.round(adapterResult.requestsPerSec)} req/s p99 ${adapterResult.p99Ms} ms (${ratio.toFixed(2)}x)`,
      );
      results.push({ ...base, status: "measured", floor, adapterResult, ratio });
    } catch (error) {
      // One broken framework must not hide the others' numbers; the run still fails at the end.
      const reason = error instanceof Error ? error.message : String(error);
      log(`http ${framework.label}: FAILED: ${reason}`);
      results.push({ ...base, status: "failed", reason });
    } finally {
      await Promise.all([servers.floor?.stop(), servers.adapter?.stop()]);
    }
  }
  return results;
}
