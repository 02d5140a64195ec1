/**
 * Part 6: the verification bench on Bun, Deno and workerd (and Node, in process, for the decoding
 * table), each against hand-written floors on that runtime. `harness.ts` is bundled once with
 * both builds of the core and served by each runtime; this side schedules the batches, in
 * alternating order, and pairs each case with the floors timed in the same round.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { PACKAGE_DIR } from "../http/load.js";
import { median } from "../measure.js";

/** Runtimes as tools/runtimes installs them (same exact versions, so npx reuses its cache). */
export const BENCH_RUNTIMES = [
  { id: "node", name: "Node (this process)", conditions: ["node", "import", "default"] },
  {
    id: "bun",
    name: "Bun",
    npm: "bun@1.4.5",
    conditions: ["bun", "node", "import", "default"],
  },
  {
    id: "deno",
    name: "Deno",
    npm: "deno@2.9.6",
    conditions: ["deno", "node", "import", "default"],
  },
  {
    id: "workerd",
    name: "workerd",
    npm: "workerd@1.20261117.1",
    // What wrangler bundles with.
    conditions: ["workerd", "worker", "browser", "import", "default"],
  },
] as const;

export type BenchRuntimeId = (typeof BENCH_RUNTIMES)[number]["id"];

export const FLOOR_WEB = "floor (Web Crypto, key imported once)";
export const FLOOR_NODE = "floor (node:crypto)";
export const CORE_WEB = "core, Web Crypto engine: verify()";
export const CORE_NODE = "core, node:crypto engine: verify()";
const SIZE_LABELS: Record<number, string> = {
  256: "256 B",
  4096: "4 KiB",
  65536: "64 KiB",
  1048576: "1 MiB",
};
const DECODE_SIZE = 1048576;
/** Samples per case per round, their median kept. */
const SAMPLES = 5;
/** Timings of each batch size during calibration; the fastest counts. */
const CALIBRATION_ATTEMPTS = 3;

export interface RuntimeRow {
  name: string;
  kind: "floor" | "core" | "decode";
  opsPerSec: number;
  rounds: number[];
  /** Median over rounds of the ratio to the faster floor of the same round (decode rows: to the fastest decode). */
  ratio: number;
}

export type RuntimeBenchResult =
  | {
      id: BenchRuntimeId;
      name: string;
      status: "measured";
      version: string;
      /** The engine `#crypto` resolves to there, from core's package.json `imports`. */
      engine: "node:crypto" | "web-crypto";
      sizes: { size: string; bytes: number; rows: RuntimeRow[] }[];
      /** Bytes → event at 1 MiB, every strategy that refuses invalid UTF-8. */
      decode: RuntimeRow[];
    }
  | { id: BenchRuntimeId; name: string; status: "failed"; reason: string };

export interface RuntimeBenchSettings {
  rounds: number;
  /** Wall time each batch aims at, in ms. */
  batchMs: number;
}

interface HarnessClient {
  version: string;
  cases(): Promise<{ name: string; kind: RuntimeRow["kind"] }[]>;
  /** Elapsed ms of a batch of `n`. */
  run(caseName: string, size: number, n: number): Promise<number>;
  stop(): Promise<void>;
}

const CORE_DIR = join(PACKAGE_DIR, "node_modules", "@kallima", "webhooks");

/** The engine file `#crypto` resolves to under `conditions` (the first that matches, as Node resolves). */
export async function engineFor(
  conditions: readonly string[],
): Promise<"node:crypto" | "web-crypto"> {
  const manifest = JSON.parse(await readFile(join(CORE_DIR, "package.json"), "utf8")) as {
    imports: Record<string, Record<string, { import: string }>>;
  };
  for (const [condition, target] of Object.entries(manifest.imports["#crypto"]!)) {
    if (conditions.includes(condition)) {
      return target.import.includes("/node.") ? "node:crypto" : "web-crypto";
    }
  }
  throw new Error(`No #crypto condition of core matches ${conditions.join(", ")}.`);
}

/** Bundles the harness with the core built twice, once per engine's conditions. */
export async function bundleHarness(dir: string): Promise<string> {
  const entry = join(CORE_DIR, "dist", "index.js");
  const builds = { web: ["workerd", "worker", "browser"], node: ["node"] } as const;
  const files: Record<string, string> = {};
  for (const [engine, conditions] of Object.entries(builds)) {
    files[engine] = join(dir, `core-${engine}.mjs`);
    await build({
      entryPoints: [entry],
      outfile: files[engine],
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      conditions: [...conditions],
      // The core's build names Node's modules without the node: prefix; Deno and workerd need it.
      alias: { buffer: "node:buffer", crypto: "node:crypto" },
      external: ["node:*"],
      logLevel: "error",
    });
  }
  const outfile = join(dir, "harness.mjs");
  await build({
    entryPoints: [join(PACKAGE_DIR, "src", "runtimes", "harness.ts")],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    external: ["node:*"],
    logLevel: "error",
    plugins: [
      {
        name: "kallima-core-builds",
        setup(plugin) {
          plugin.onResolve({ filter: /^kallima-core-(web|node)$/ }, (args) => ({
            path: files[args.path.slice("kallima-core-".length)]!,
          }));
        },
      },
    ],
  });
  return outfile;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function run(command: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0
        ? resolve(output.trim())
        : reject(new Error(`${command} ${args.join(" ")}: ${output.slice(-800)}`)),
    );
  });
}

const workerdConfig = (port: number) => `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "bench", worker = .benchWorker)],
  sockets = [(name = "bench", address = "127.0.0.1:${port}", http = (), service = "bench")],
);
const benchWorker :Workerd.Worker = (
  modules = [(name = "harness.mjs", esModule = embed "harness.mjs")],
  compatibilityDate = "2025-06-01",
  compatibilityFlags = ["nodejs_compat"],
);
`;

/** Serves the harness on a runtime and talks to it over HTTP. */
async function serveHarness(
  runtime: (typeof BENCH_RUNTIMES)[number],
  dir: string,
): Promise<HarnessClient> {
  if (!("npm" in runtime)) {
    const module = (await import(pathToFileURL(join(dir, "harness.mjs")).href)) as {
      createHarness(runtime: string): Promise<{
        cases: { name: string; kind: RuntimeRow["kind"] }[];
        run(caseName: string, size: number, n: number): Promise<number>;
      }>;
    };
    const harness = await module.createHarness("node");
    return {
      version: process.version,
      cases: async () => harness.cases.map(({ name, kind }) => ({ name, kind })),
      run: (caseName, size, n) => harness.run(caseName, size, n),
      stop: async () => {},
    };
  }
  const binary = ["npx", "-y", runtime.npm] as const;
  const version = (await run(binary[0], [...binary.slice(1), "--version"], dir)).split("\n")[0]!;
  const port = await freePort();
  let args: string[];
  if (runtime.id === "bun") args = ["harness.mjs"];
  else if (runtime.id === "deno")
    args = [
      "serve",
      "--no-lock",
      `--port=${port}`,
      "--host=127.0.0.1",
      "--allow-env",
      "harness.mjs",
    ];
  else {
    await writeFile(join(dir, "config.capnp"), workerdConfig(port));
    args = ["serve", "config.capnp"];
  }
  // Its own process group: npx starts the runtime as a child of its own, and both must stop.
  const child = spawn(binary[0], [...binary.slice(1), ...args], {
    cwd: dir,
    env: { ...process.env, PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // Already gone.
    }
  };
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const base = `http://127.0.0.1:${port}`;
  const get = async (path: string) => {
    const response = await fetch(
      `${base}${path}${path.includes("?") ? "&" : "?"}runtime=${runtime.id}`,
    );
    const text = await response.text();
    if (!response.ok)
      throw new Error(`${runtime.name} answered ${response.status}: ${text.slice(0, 800)}`);
    return text;
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await get("/cases");
      break;
    } catch (error) {
      if (child.exitCode !== null || Date.now() > deadline) {
        kill("SIGKILL");
        throw new Error(
          `${runtime.name} did not serve the harness: ${String(error)} ${output.slice(-800)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  // What a request costs with no work in it, for runtimes whose clock stands still (workerd).
  const empties: number[] = [];
  for (let i = 0; i < 15; i++) {
    const started = performance.now();
    await get(`/run?case=${encodeURIComponent(FLOOR_WEB)}&size=256&n=0`);
    empties.push(performance.now() - started);
  }
  const overhead = median(empties);
  return {
    version,
    cases: async () =>
      JSON.parse(await get("/cases")) as { name: string; kind: RuntimeRow["kind"] }[],
    run: async (caseName, size, n) => {
      const started = performance.now();
      const { ms } = JSON.parse(
        await get(`/run?case=${encodeURIComponent(caseName)}&size=${size}&n=${n}`),
      ) as { ms: number };
      // The runtime's own clock, which leaves out the HTTP round trip and its noise; but
      // workerd's clock only moves on I/O, so there the request is timed from outside.
      if (runtime.id !== "workerd") return ms;
      return Math.max(performance.now() - started - overhead, 0.01);
    },
    stop: async () => {
      kill("SIGTERM");
      await new Promise((resolve) => setTimeout(resolve, 300));
      kill("SIGKILL");
    },
  };
}

async function measureRuntime(
  runtime: (typeof BENCH_RUNTIMES)[number],
  client: HarnessClient,
  settings: RuntimeBenchSettings,
): Promise<Extract<RuntimeBenchResult, { status: "measured" }>> {
  const cases = await client.cases();
  const slots = Object.keys(SIZE_LABELS).flatMap((size) =>
    cases
      .filter((entry) => entry.kind !== "decode" || Number(size) === DECODE_SIZE)
      .map((entry) => ({ ...entry, size: Number(size) })),
  );
  // Calibration (also the warm-up): the batch size that takes about batchMs / SAMPLES. Each
  // size is timed three times and the fastest kept: a pause only lengthens a batch, and one
  // long batch taken at face value stopped the calibration early, leaving batches shorter than
  // workerd's request overhead and ratios of 25x (seen on this machine).
  const sampleMs = settings.batchMs / SAMPLES;
  const batch = new Map<string, number>();
  for (const slot of slots) {
    let n = 1;
    for (;;) {
      let ms = Number.POSITIVE_INFINITY;
      for (let attempt = 0; attempt < CALIBRATION_ATTEMPTS; attempt++) {
        ms = Math.min(ms, await client.run(slot.name, slot.size, n));
      }
      if (ms >= sampleMs / 2 || n >= 1 << 16) {
        batch.set(`${slot.name}@${slot.size}`, Math.max(1, Math.round((n * sampleMs) / ms)));
        break;
      }
      n *= 4;
    }
  }
  const perRound = new Map<string, number[]>(
    slots.map((slot) => [`${slot.name}@${slot.size}`, []]),
  );
  for (let round = 0; round < settings.rounds; round++) {
    const ordered = round % 2 === 0 ? slots : [...slots].reverse();
    for (const slot of ordered) {
      const key = `${slot.name}@${slot.size}`;
      const n = batch.get(key)!;
      // The median of a few samples: a batch descheduled by another job on the machine is dropped.
      const samples: number[] = [];
      for (let sample = 0; sample < SAMPLES; sample++) {
        samples.push((n * 1000) / (await client.run(slot.name, slot.size, n)));
      }
      perRound.get(key)!.push(median(samples));
    }
  }
  const rowsAt = (size: number, kinds: RuntimeRow["kind"][]) => {
    const picked = slots.filter((slot) => slot.size === size && kinds.includes(slot.kind));
    const rounds = (name: string) => perRound.get(`${name}@${size}`)!;
    // The reference of each round: its fastest floor (or its fastest decoding strategy).
    const reference = Array.from({ length: settings.rounds }, (_, round) =>
      Math.max(
        ...picked
          .filter((slot) => slot.kind === (kinds.includes("decode") ? "decode" : "floor"))
          .map((slot) => rounds(slot.name)[round]!),
      ),
    );
    return picked.map((slot) => ({
      name: slot.name,
      kind: slot.kind,
      opsPerSec: median(rounds(slot.name)),
      rounds: rounds(slot.name),
      ratio: median(rounds(slot.name).map((ops, round) => ops / reference[round]!)),
    }));
  };
  return {
    id: runtime.id,
    name: runtime.name,
    status: "measured",
    version: client.version,
    engine: await engineFor(runtime.conditions),
    sizes: Object.entries(SIZE_LABELS).map(([bytes, size]) => ({
      size,
      bytes: Number(bytes),
      rows: rowsAt(Number(bytes), ["floor", "core"]),
    })),
    decode: rowsAt(DECODE_SIZE, ["decode"]),
  };
}

/** Part 6: every runtime in turn; one that cannot be installed or served fails its row. */
export async function benchRuntimes(
  settings: RuntimeBenchSettings,
  log: (line: string) => void,
  only?: readonly string[],
): Promise<RuntimeBenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), "kallima-bench-runtimes-"));
  const results: RuntimeBenchResult[] = [];
  try {
    await bundleHarness(dir);
    for (const runtime of BENCH_RUNTIMES) {
      if (only && !only.includes(runtime.id)) continue;
      let client: HarnessClient | undefined;
      try {
        client = await serveHarness(runtime, dir);
        const result = await measureRuntime(runtime, client, settings);
        results.push(result);
        log(
          `runtimes ${runtime.name} ${result.version} (core engine there: ${result.engine}): ${result.sizes
            .map(
              (size) =>
                `${size.size} ${size.rows
                  .filter((row) => row.kind === "core")
                  .map((row) => `${row.name.replace("core, ", "")} ${row.ratio.toFixed(2)}x`)
                  .join(" / ")}`,
            )
            .join(
              "; ",
            )}; decode 1 MiB fastest: ${[...result.decode].sort((a, b) => b.opsPerSec - a.opsPerSec)[0]?.name}`,
        );
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        results.push({ id: runtime.id, name: runtime.name, status: "failed", reason });
        log(`runtimes ${runtime.name}: FAILED ${reason.split("\n")[0]}`);
      } finally {
        await client?.stop();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return results;
}

/** The core's row on a runtime: the engine its export conditions pick there. */
export function coreRowName(engine: "node:crypto" | "web-crypto"): string {
  return engine === "node:crypto" ? CORE_NODE : CORE_WEB;
}

/** The decoding strategy of the harness the core uses on a runtime (see crypto/node.ts, crypto/web.ts). */
export function decodeOf(runtime: BenchRuntimeId, engine: "node:crypto" | "web-crypto"): string {
  if (engine === "web-crypto") return "decode: TextDecoder fatal";
  return runtime === "deno"
    ? "decode: TextDecoder, fatal only on U+FFFD"
    : "decode: isUtf8 + Buffer#toString";
}
