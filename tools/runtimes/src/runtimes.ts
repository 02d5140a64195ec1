// The runtimes, each installed from the npm registry as a package that ships its binary (npx
// caches them in ~/.npm/_npx), and how to find out whether one is there.
import { noise, run } from "./processes.js";
import type { RecipeId } from "./recipes.js";

export type RuntimeId = "node20" | "node22" | "node24" | "bun" | "deno" | "workerd";

/** The core's HMAC engine, as `WebhookVerifier#engine` names it. */
export type Engine = "node:crypto" | "web-crypto";

/** How the checks run on a runtime. */
export type RuntimeKind =
  /** A process that runs a script: the vectors CLI, then `dist/<entry>.js` of the example. */
  | { type: "process"; entry: "node" | "bun" | "deno" }
  /** `workerd serve` with a generated config of two workers. */
  | { type: "workerd" };

export interface Runtime {
  id: RuntimeId;
  name: string;
  /** Starts the runtime's binary. */
  binary: readonly string[];
  /** Arguments between the binary and a script it runs. */
  scriptArgs: readonly string[];
  /** The npm package and exact version installed with npx; absent for the machine's own Node. */
  npm?: { name: string; version: string };
  /** The engine the core must resolve to there. */
  engine: Engine;
  kind: RuntimeKind;
  /** The core README's Fetch recipes written for this runtime, served by it (recipes.ts). */
  recipes: readonly RecipeId[];
}

const fromNpm = (name: string, version: string) => ({
  npm: { name, version },
  binary: ["npx", "-y", `${name}@${version}`],
});

// Exact versions, so that CI runs what was tested and npx reuses its cache without asking the
// registry which version a range means today.
export const RUNTIMES: readonly Runtime[] = [
  {
    id: "node20",
    name: "Node 20 (machine)",
    binary: [process.execPath],
    scriptArgs: [],
    engine: "node:crypto",
    kind: { type: "process", entry: "node" },
    recipes: [],
  },
  {
    id: "node22",
    name: "Node 22",
    ...fromNpm("node", "22.23.3"),
    scriptArgs: [],
    engine: "node:crypto",
    kind: { type: "process", entry: "node" },
    recipes: [],
  },
  {
    id: "node24",
    name: "Node 24",
    ...fromNpm("node", "24.21.0"),
    scriptArgs: [],
    engine: "node:crypto",
    kind: { type: "process", entry: "node" },
    recipes: [],
  },
  {
    id: "bun",
    name: "Bun",
    ...fromNpm("bun", "1.4.5"),
    scriptArgs: [],
    // The faster of its two HMACs by the bench (packages/bench, part 5).
    engine: "node:crypto",
    kind: { type: "process", entry: "bun" },
    recipes: ["bun-serve", "elysia"],
  },
  {
    id: "deno",
    name: "Deno",
    ...fromNpm("deno", "2.9.6"),
    scriptArgs: [
      "run",
      "--no-lock",
      // Only the staged node_modules, never a download of its own.
      "--node-modules-dir=manual",
      "--no-remote",
      "--allow-env",
      "--allow-net",
      "--allow-read",
    ],
    // The faster of its two HMACs by the bench (packages/bench, part 5).
    engine: "node:crypto",
    kind: { type: "process", entry: "deno" },
    recipes: ["deno-serve"],
  },
  {
    id: "workerd",
    name: "workerd",
    ...fromNpm("workerd", "1.20261117.1"),
    scriptArgs: [],
    engine: "web-crypto",
    kind: { type: "workerd" },
    recipes: ["worker"],
  },
];

/** The runtimes `KALLIMA_RUNTIMES` (comma-separated ids) names, in table order; all by default. */
export function selectRuntimes(selection: string | undefined): Runtime[] {
  if (!selection?.trim()) return [...RUNTIMES];
  const ids = selection.split(",").map((id) => id.trim());
  const unknown = ids.filter((id) => !RUNTIMES.some((runtime) => runtime.id === id));
  if (unknown.length > 0) {
    throw new Error(
      `KALLIMA_RUNTIMES names ${unknown.join(", ")}: the runtimes are ${RUNTIMES.map((r) => r.id).join(", ")}`,
    );
  }
  return RUNTIMES.filter((runtime) => ids.includes(runtime.id));
}

/** Whether a runtime's binary starts, and which version it says it is. */
export type Install =
  | { ok: true; version: string }
  | { ok: false; version: string | undefined; detail: string };

const INSTALL_TIMEOUT_MS = 240_000;

/**
 * Installs the runtime (or finds it in the npx cache) by asking it for its version. A runtime
 * that cannot be installed fails its row, in CI and anywhere else: it is never skipped.
 */
export async function install(runtime: Runtime, cwd: string): Promise<Install> {
  if (!runtime.npm) return { ok: true, version: process.version };
  const result = await run([...runtime.binary, "--version"], [], {
    cwd,
    timeoutMs: INSTALL_TIMEOUT_MS,
  });
  const version = noise(result.stdout).split("\n")[0] || undefined;
  if (result.code === 0 && version) return { ok: true, version };
  return {
    ok: false,
    version,
    detail: `npx ${runtime.npm.name}@${runtime.npm.version} --version exited with ${result.code}: ${noise(result.stderr).slice(-400)}`,
  };
}
