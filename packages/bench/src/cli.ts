import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PACKAGE_DIR } from "./http/load.js";
import { renderMarkdown } from "./report.js";
import { type BenchResults, PARTS, type Part, runBench } from "./run.js";
import type { BenchRuntimeId } from "./runtimes/index.js";

/**
 * `pnpm bench`: runs every part and writes BENCHMARKS.md and benchmarks.json next to this
 * package. `BENCH_SMOKE=1` (or `--smoke`) runs tiny counts and writes to a temporary directory
 * unless `--out` says where. `--only=verification,handle,http,memory` picks parts;
 * `BENCH_SKIP=next,nest-fastify` leaves frameworks out of part 3 (reported as skipped);
 * `BENCH_RUNTIMES=bun,deno` runs only those runtimes in part 6 (`node,bun,deno,workerd`).
 * `--render` only rewrites BENCHMARKS.md from the benchmarks.json already there (after editing
 * notes.md, say), without measuring anything.
 */
const args = process.argv.slice(2);
const flag = (name: string) => args.find((arg) => arg.startsWith(`--${name}=`))?.split("=")[1];
const smoke = args.includes("--smoke") || process.env.BENCH_SMOKE === "1";
const only = flag("only")?.split(",") as Part[] | undefined;
for (const part of only ?? []) {
  if (!PARTS.includes(part)) throw new Error(`Unknown part ${part}: use ${PARTS.join(", ")}.`);
}
const outDir = flag("out") ?? (smoke ? join(tmpdir(), "kallima-bench-smoke") : PACKAGE_DIR);

const written = [join(outDir, "BENCHMARKS.md"), join(outDir, "benchmarks.json")] as const;
const skipFrameworks = process.env.BENCH_SKIP?.split(",").filter(Boolean) ?? [];
const runtimes = process.env.BENCH_RUNTIMES?.split(",").filter(Boolean) as
  | BenchRuntimeId[]
  | undefined;
const results: BenchResults = args.includes("--render")
  ? (JSON.parse(readFileSync(written[1], "utf8")) as BenchResults)
  : await runBench({
      smoke,
      skipFrameworks,
      ...(only ? { parts: only } : {}),
      ...(runtimes ? { runtimes } : {}),
    });
mkdirSync(outDir, { recursive: true });
const notesFile = join(PACKAGE_DIR, "notes.md");
let notes: string[] = [];
try {
  notes = readFileSync(notesFile, "utf8").trimEnd().split("\n");
} catch {
  // No hand-written notes to append.
}
writeFileSync(written[0], renderMarkdown(results, notes));
writeFileSync(written[1], `${JSON.stringify(results, null, 2)}\n`);
// The repo's formatter owns the files' layout, so that `biome ci` passes on a fresh run.
const biome = join(PACKAGE_DIR, "..", "..", "node_modules", "@biomejs", "biome", "bin", "biome");
if (existsSync(biome)) {
  spawnSync(process.execPath, [biome, "format", "--write", ...written], { stdio: "ignore" });
}
console.log(
  `Wrote ${join(outDir, "BENCHMARKS.md")} and benchmarks.json (${results.meta.durationSeconds} s).`,
);

const failed = [
  ...(results.http?.filter((framework) => framework.status === "failed") ?? []).map(
    (framework) => framework.label,
  ),
  ...(results.runtimes?.filter((runtime) => runtime.status === "failed") ?? []).map(
    (runtime) => runtime.name,
  ),
];
if (failed.length > 0) {
  console.error(`Failed: ${failed.join(", ")}.`);
  process.exitCode = 1;
}
