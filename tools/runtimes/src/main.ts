// The core and the Hono example on real runtimes: Node 20 (this machine), Node 22 and 24, Bun,
// Deno and workerd (runtimes.ts). On each it runs
//   (a) both lists of the shared PROTOCOL vectors, read by the one shared loader
//       (@kallima/webhooks-conformance/vectors), through the built core (in-runtime/),
//   (b) the core's delivery records and @kallima/webhooks/otel on the real @opentelemetry/api,
//       with a recording tracer and meter (in-runtime/check-observability.ts),
//   (c) deliveries signed by the shared independent signer against the Hono example (example.ts),
//       and
//   (d) on Bun, Deno and workerd, the core README's Fetch recipes written for them (recipes.ts),
// then prints a table of runtime × result (report.ts) and exits non-zero on any failure.
// It tests the packages as they are published, from a staged temporary app (stage.ts).
// KALLIMA_RUNTIMES=node20,bun limits the runtimes; KALLIMA_KEEP_STAGE=1 keeps the staged app.
import { rmSync } from "node:fs";
import { vectorFile, vectorsPath } from "@kallima/webhooks-conformance/vectors";
import { runProcessRuntime } from "./process-runtime.js";
import { details, type Row, rowOk, table } from "./report.js";
import { install, selectRuntimes } from "./runtimes.js";
import { stage } from "./stage.js";
import { runWorkerd } from "./workerd.js";

// Ctrl-C and kills go through process.exit, so that the exit hooks stop every child.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => process.exit(130));
}

const started = Date.now();
const runtimes = selectRuntimes(process.env.KALLIMA_RUNTIMES);
const staged = await stage(vectorFile);
process.on("exit", () => {
  if (process.env.KALLIMA_KEEP_STAGE) console.log(`staged app kept in ${staged.dir}`);
  else rmSync(staged.dir, { recursive: true, force: true });
});
console.log(
  `runtimes: ${runtimes.map((runtime) => runtime.id).join(", ")}; vectors: ${vectorsPath}`,
);

// Install (or find in the npx cache) every runtime at once: it is network-bound.
const installs = await Promise.all(runtimes.map((runtime) => install(runtime, staged.dir)));
console.log(`runtimes ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);

const rows: Row[] = [];
for (const [index, runtime] of runtimes.entries()) {
  const installed = installs[index];
  if (!installed) throw new Error(`no install result for ${runtime.id}`);
  const began = Date.now();
  const result = !installed.ok
    ? {
        vectors: { error: `install failed: ${installed.detail}` },
        example: { error: "not run" },
        recipes: [],
      }
    : runtime.kind.type === "workerd"
      ? await runWorkerd(runtime, staged, vectorFile)
      : await runProcessRuntime(runtime, runtime.kind.entry, staged);
  rows.push({ runtime, install: installed, ...result, seconds: (Date.now() - began) / 1000 });
}

console.log("");
console.log(table(rows));
console.log("");
for (const line of details(rows)) console.log(line);
const failed = rows.filter((row) => !rowOk(row));
console.log(
  `${rows.length - failed.length}/${rows.length} runtimes passed in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
process.exit(failed.length === 0 ? 0 : 1);
