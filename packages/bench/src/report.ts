import { CORE_WORKER } from "./bundle.js";
import type { FrameworkResult } from "./http/index.js";
import { median } from "./measure.js";
import { renderQueue } from "./queue/index.js";
import type { BenchResults } from "./run.js";
import { CORE_NODE, CORE_WEB, coreRowName, decodeOf } from "./runtimes/index.js";
import {
  CORE_HANDLE,
  CORE_HANDLE_COMBINED,
  CORE_VERIFY,
  CORE_VERIFY_COMBINED,
  CORE_VERIFY_SYNC,
  FLOOR_AWAITED,
  FORMAT_PAIRS,
  formatOps,
  OBSERVED_ROWS,
  pairedRatio,
  type SizeResult,
} from "./verification.js";

export interface TargetCheck {
  target: string;
  met: boolean | undefined;
  detail: string;
}

const PEERS = [
  "svix",
  "standardwebhooks",
  "stripe constructEvent",
  "stripe constructEventAsync",
  "@octokit/webhooks-methods verify",
];

function row(size: SizeResult, name: string) {
  return size.rows.find((candidate) => candidate.name === name);
}

function ratio(value: number): string {
  return `${value.toFixed(2)}×`;
}

/** The one-sided sign test's level for "the combined header is slower". */
const SIGN_TEST_LEVEL = 0.05;

/**
 * The fewest rounds out of `n` in which the Kallima-Signature row must be the slower one before
 * chance (each round a coin flip when both forms cost the same) explains it at
 * {@link SIGN_TEST_LEVEL}; undefined when even `n` of `n` would not (too few rounds).
 */
export function slowerRoundsNeeded(n: number): number | undefined {
  let tail = 0;
  let choose = 1;
  // Walks k down from n, adding C(n, k) / 2^n to the upper tail.
  for (let k = n; k >= 0; k -= 1) {
    if (k < n) choose = (choose * (k + 1)) / (n - k);
    tail += choose / 2 ** n;
    if (tail > SIGN_TEST_LEVEL) return k === n ? undefined : k + 1;
  }
  return 0;
}

export interface FormatComparison {
  part: "verification" | "handle";
  size: string;
  pairToFloor: number;
  combinedToFloor: number;
  /** Kallima-Signature against the X- pair: median of per-round ratios (1 = same cost). */
  combinedToPair: number;
  perRound: number[];
  /** Rounds in which the Kallima-Signature row was the slower one. */
  slowerRounds: number;
  rounds: number;
  /** Slower in so many rounds that the sign test rules out chance (undefined: too few rounds). */
  measurablySlower: boolean | undefined;
}

/** The Kallima-Signature rows read against the X-Kallima-* rows of the same run and sizes. */
export function formatComparisons(results: BenchResults): FormatComparison[] {
  const comparisons: FormatComparison[] = [];
  for (const { part, pair, combined } of FORMAT_PAIRS) {
    for (const size of results[part] ?? []) {
      const a = row(size, combined);
      const b = row(size, pair);
      // A benchmarks.json from before the second format has no such rows.
      if (!a || !b) continue;
      const perRound = a.rounds.map((ops, round) => ops / b.rounds[round]!);
      const combinedToPair = pairedRatio(a, b);
      const slowerRounds = perRound.filter((value) => value < 1).length;
      const needed = slowerRoundsNeeded(perRound.length);
      comparisons.push({
        part,
        size: size.size,
        pairToFloor: b.ratioToFloor,
        combinedToFloor: a.ratioToFloor,
        combinedToPair,
        perRound,
        slowerRounds,
        rounds: perRound.length,
        measurablySlower:
          needed === undefined ? undefined : combinedToPair < 1 && slowerRounds >= needed,
      });
    }
  }
  return comparisons;
}

/** The issue's targets, checked against this run's numbers (recorded, never asserted). */
export function checkTargets(results: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  if (results.verification) {
    const ratios = results.verification.map((size) => ({
      size: size.size,
      ratio: row(size, CORE_VERIFY)!.ratioToFloor,
    }));
    checks.push({
      target: "`verify()` ≥ 0.95× the floor at every size (256 B included)",
      met: ratios.every((entry) => entry.ratio >= 0.95),
      detail: ratios.map((entry) => `${entry.size} ${ratio(entry.ratio)}`).join(", "),
    });
    const syncRatios = results.verification.flatMap((size) => {
      const sync = row(size, CORE_VERIFY_SYNC);
      return sync ? [{ size: size.size, ratio: sync.ratioToFloor }] : [];
    });
    if (syncRatios.length > 0) {
      checks.push({
        target: "`verifySync()` (Node's synchronous path) ≥ 0.95× the floor at every size",
        met: syncRatios.every((entry) => entry.ratio >= 0.95),
        detail: syncRatios.map((entry) => `${entry.size} ${ratio(entry.ratio)}`).join(", "),
      });
    }
    const behind = results.verification.flatMap((size) => {
      const core = row(size, CORE_VERIFY)!.opsPerSec;
      return PEERS.filter((peer) => (row(size, peer)?.opsPerSec ?? 0) >= core).map(
        (peer) => `${peer} at ${size.size}`,
      );
    });
    checks.push({
      target: "ahead of every peer at every size",
      met: behind.length === 0,
      detail: behind.length === 0 ? "ahead everywhere" : `not ahead of: ${behind.join(", ")}`,
    });
  }
  if (results.handle) {
    const ratios = results.handle.map((size) => ({
      size: size.size,
      ratio: row(size, CORE_HANDLE)!.ratioToFloor,
    }));
    checks.push({
      target: "`handle()` ≥ 0.90× a floor that also records the id in a `Map`",
      met: ratios.every((entry) => entry.ratio >= 0.9),
      detail: ratios.map((entry) => `${entry.size} ${ratio(entry.ratio)}`).join(", "),
    });
  }
  const comparisons = formatComparisons(results);
  if (comparisons.length > 0) {
    const slower = comparisons.filter((entry) => entry.measurablySlower === true);
    const undecided = comparisons.some((entry) => entry.measurablySlower === undefined);
    checks.push({
      target:
        "Kallima-Signature costs nothing measurable against the X-Kallima-* pair (verify() and handle(), every size)",
      met: slower.length > 0 ? false : undecided ? undefined : true,
      detail: comparisons
        .map(
          (entry) =>
            `${entry.part === "handle" ? "handle()" : "verify()"} ${entry.size} ${entry.combinedToPair.toFixed(3)}×${entry.measurablySlower ? " (slower)" : ""}`,
        )
        .join(", "),
    });
  }
  if (results.http) {
    const measured = results.http.filter(
      (framework): framework is Extract<FrameworkResult, { status: "measured" }> =>
        framework.status === "measured",
    );
    const skipped = results.http.filter((framework) => framework.status !== "measured");
    checks.push({
      target: "every adapter ≥ 0.90× its framework's floor in requests/s",
      met:
        measured.length === 0
          ? undefined
          : measured.every((framework) => framework.ratio >= 0.9) && skipped.length === 0
            ? true
            : measured.some((framework) => framework.ratio < 0.9)
              ? false
              : undefined,
      detail: [
        ...measured.map((framework) => `${framework.label} ${ratio(framework.ratio)}`),
        ...skipped.map((framework) => `${framework.label} ${framework.status}`),
      ].join(", "),
    });
  }
  for (const runtime of results.runtimes ?? []) {
    if (runtime.id === "node") continue;
    if (runtime.status !== "measured") {
      checks.push({
        target: `${runtime.name}: verify() ≥ 0.95× the faster hand-written floor there, every size`,
        met: false,
        detail: `failed: ${runtime.reason.split("\n")[0]}`,
      });
      continue;
    }
    const core = coreRowName(runtime.engine);
    const ratios = runtime.sizes.map((size) => ({
      size: size.size,
      ratio: size.rows.find((entry) => entry.name === core)!.ratio,
    }));
    checks.push({
      target: `${runtime.name}: verify() ≥ 0.95× the faster hand-written floor there, every size`,
      met: ratios.every((entry) => entry.ratio >= 0.95),
      detail: `${runtime.engine} engine (its export condition): ${ratios.map((entry) => `${entry.size} ${ratio(entry.ratio)}`).join(", ")}`,
    });
  }
  const engines = (results.runtimes ?? []).filter(
    (runtime): runtime is Extract<typeof runtime, { status: "measured" }> =>
      runtime.status === "measured",
  );
  if (engines.length > 0) {
    const verdicts = engines.map((runtime) => {
      const faster = runtime.sizes.map((size) => {
        const web = size.rows.find((entry) => entry.name === CORE_WEB)!.opsPerSec;
        const node = size.rows.find((entry) => entry.name === CORE_NODE)!.opsPerSec;
        return node >= web ? "node:crypto" : "web-crypto";
      });
      const picked = faster.filter((engine) => engine === runtime.engine).length;
      return { runtime, faster, ok: picked * 2 >= faster.length };
    });
    checks.push({
      target:
        "each runtime's export condition picks the engine that measured faster (at most sizes)",
      met: verdicts.every((entry) => entry.ok),
      detail: verdicts
        .map(
          (entry) =>
            `${entry.runtime.name}: picks ${entry.runtime.engine}, faster ${entry.faster.join("/")}`,
        )
        .join("; "),
    });
    const decoding = engines.map((runtime) => {
      const used = runtime.decode.find(
        (entry) => entry.name === decodeOf(runtime.id, runtime.engine),
      );
      return { runtime, ratio: used?.ratio ?? 0 };
    });
    checks.push({
      target:
        "bytes → event at 1 MiB: the core's decoding is within 0.95× of the fastest correct strategy on each runtime",
      met: decoding.every((entry) => entry.ratio >= 0.95),
      detail: decoding
        .map(
          (entry) =>
            `${entry.runtime.name} (${decodeOf(entry.runtime.id, entry.runtime.engine).replace("decode: ", "")}) ${ratio(entry.ratio)}`,
        )
        .join(", "),
    });
  }
  if (results.bundle) {
    const { rows, budgetBytes } = results.bundle;
    const core = rows.find((entry) => entry.name === CORE_WORKER)!;
    checks.push({
      target: `edge bundle: the core's complete Worker ≤ ${kb(budgetBytes)} gzipped (the budget \`bundle.test.ts\` guards)`,
      met: core.gzippedBytes <= budgetBytes,
      detail: `${kb(core.gzippedBytes)}; ${rows
        .filter((entry) => entry !== core)
        .map((entry) => `${entry.name} ${kb(entry.gzippedBytes)} (${entry.does.split(" (")[0]})`)
        .join(", ")}`,
    });
  }
  const hono = results.http?.find((framework) => framework.name === "hono");
  if (hono) {
    checks.push({
      target: "Hono on @hono/node-server ≥ 0.95× its framework's floor",
      met:
        hono.status === "measured"
          ? hono.ratio >= 0.95
          : hono.status === "failed"
            ? false
            : undefined,
      detail: hono.status === "measured" ? ratio(hono.ratio) : hono.status,
    });
  }
  if (results.memory) {
    const m = results.memory;
    checks.push({
      target: `heap after ${m.events.toLocaleString("en-US")} distinct events stays within the memory store's bound`,
      met: m.withinBound,
      detail: `store held ${m.storeSizeAfter.toLocaleString("en-US")} of at most ${m.maxEntries.toLocaleString("en-US")} ids; heap +${kib(m.growthAfterFull)} after the store was full`,
    });
  }
  return checks;
}

function kb(bytes: number): string {
  return `${(bytes / 1000).toFixed(1)} kB`;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KiB`;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function verdict(met: boolean | undefined): string {
  if (met === undefined) return "not measured";
  return met ? "met" : "**missed**";
}

function sizeTable(size: SizeResult): string[] {
  const lines = [
    `| ${size.size} | ops/s (median) | × floor | ops/s, slowest–fastest round |`,
    "|---|---:|---:|---|",
  ];
  for (const entry of size.rows) {
    const name = [
      CORE_VERIFY,
      CORE_VERIFY_COMBINED,
      CORE_VERIFY_SYNC,
      CORE_HANDLE,
      CORE_HANDLE_COMBINED,
    ].includes(entry.name)
      ? `**${entry.name}**`
      : entry.name;
    lines.push(
      `| ${name} | ${formatOps(entry.opsPerSec)} | ${entry.ratioToFloor.toFixed(2)} | ${formatOps(Math.min(...entry.rounds))}–${formatOps(Math.max(...entry.rounds))} |`,
    );
  }
  return lines;
}

function awaitNote(results: BenchResults): string[] {
  if (!results.verification) return [];
  const lines = [
    "",
    "The diagnostic row *floor, awaited* is the floor wrapped in an `async` function and awaited, as every",
    "caller of the core's `async verify()` must: its gap to the floor is the price of the Promise alone.",
    "",
    "| size | floor awaited × floor | core verify × floor | core verify × floor awaited |",
    "|---|---:|---:|---:|",
  ];
  for (const size of results.verification) {
    const awaited = row(size, FLOOR_AWAITED)!;
    const core = row(size, CORE_VERIFY)!;
    lines.push(
      `| ${size.size} | ${awaited.ratioToFloor.toFixed(2)} | ${core.ratioToFloor.toFixed(2)} | ${median(core.rounds.map((ops, round) => ops / awaited.rounds[round]!)).toFixed(2)} |`,
    );
  }
  return lines;
}

function formatNote(results: BenchResults): string[] {
  const comparisons = formatComparisons(results);
  if (comparisons.length === 0) return [];
  const rounds = comparisons[0]!.rounds;
  const needed = slowerRoundsNeeded(rounds);
  const lines = [
    "",
    "## Kallima-Signature against the X-Kallima-* pair",
    "",
    "The same deliveries (same timestamp, same HMAC, same body) in each of Kallima's header formats, timed side by side in the same rounds:",
    "`verify({ payload, signature, timestamp })` with the X-Kallima-Signature and X-Kallima-Timestamp values against",
    "`verify({ payload, signature })` with the `Kallima-Signature: t=…,v1=…` value alone, and `handle()` given either header set",
    "(the X- set also costs a lookup of the absent Kallima-Signature header, since that header wins when present).",
    "Both are also read against the same floor. *KS ÷ X-* is the median of the per-round ratios of the two rows (below 1: the combined header costs more).",
    "",
    needed === undefined
      ? `With ${rounds} round(s) no sign test can tell the two forms apart: the verdict below is *not measured*.`
      : `*Measurable* means a one-sided sign test at ${SIGN_TEST_LEVEL * 100} %: the Kallima-Signature row was the slower one in at least ${needed} of the ${rounds} rounds (and its median ratio is below 1). Otherwise the run cannot tell the two forms apart.`,
    "",
    "| part | size | X- pair × floor | Kallima-Signature × floor | KS ÷ X- (median) | KS ÷ X-, slowest–fastest round | KS slower in | measurably slower |",
    "|---|---|---:|---:|---:|---|---:|---|",
  ];
  for (const entry of comparisons) {
    lines.push(
      `| ${entry.part === "handle" ? "`handle()`" : "`verify()`"} | ${entry.size} | ${entry.pairToFloor.toFixed(2)} | ${entry.combinedToFloor.toFixed(2)} | ${entry.combinedToPair.toFixed(3)} | ${Math.min(...entry.perRound).toFixed(3)}–${Math.max(...entry.perRound).toFixed(3)} | ${entry.slowerRounds}/${entry.rounds} | ${entry.measurablySlower === undefined ? "not measured" : entry.measurablySlower ? "**yes**" : "no"} |`,
    );
  }
  return lines;
}

/** The observed handle() rows against the plain one: what onDelivery and OpenTelemetry cost. */
function observabilityNote(results: BenchResults): string[] {
  const sizes = (results.handle ?? []).filter((size) =>
    OBSERVED_ROWS.every((name) => row(size, name)),
  );
  if (sizes.length === 0) return [];
  const lines = [
    "",
    "## Observability overhead",
    "",
    "`handle()` as in part 2 (X-Kallima-* headers), each row with its own handler and store: *plain* has neither `onDelivery` nor `instrumentation` (the absent case: no clock read, no record, no instrumentation call, and `@opentelemetry` is never imported by the main entry); *onDelivery* builds one record per delivery for a callback that keeps the last; *OTel no-op* runs `otelInstrumentation()` on the OpenTelemetry SDK (`BasicTracerProvider` with a `BatchSpanProcessor`, as the Node SDK sets up, and a `MeterProvider` with a periodic reader) whose exporters drop everything at once, so every span (delivery, verify, claim, handler) is made, ended, queued and exported, and every measurement aggregated; no sampling. ÷ plain is the median of per-round ratios to the plain row (1 = no cost).",
    "",
    "| size | plain × floor | onDelivery ÷ plain | OTel no-op ÷ plain | onDelivery ÷ plain, slowest–fastest round | OTel ÷ plain, slowest–fastest round |",
    "|---|---:|---:|---:|---|---|",
  ];
  for (const size of sizes) {
    const plain = row(size, CORE_HANDLE)!;
    const [record, otel] = OBSERVED_ROWS.map((name) => row(size, name)!);
    const spread = (observed: typeof plain) => {
      const perRound = observed.rounds.map((ops, round) => ops / plain.rounds[round]!);
      return `${Math.min(...perRound).toFixed(3)}–${Math.max(...perRound).toFixed(3)}`;
    };
    lines.push(
      `| ${size.size} | ${plain.ratioToFloor.toFixed(2)} | ${pairedRatio(record!, plain).toFixed(3)} | ${pairedRatio(otel!, plain).toFixed(3)} | ${spread(record!)} | ${spread(otel!)} |`,
    );
  }
  return lines;
}

function runtimesSection(results: BenchResults): string[] {
  if (!results.runtimes) return [];
  const out = [
    "",
    "## 6. Verification on other runtimes",
    "",
    "The verification bench bundled once (esbuild) with both builds of the core, each as its engine's export conditions resolve it, and served by each runtime as a Fetch worker (`export default { fetch }`; workerd with `nodejs_compat`, for the `node:crypto` floor); Node runs the same bundle in the bench process. The bench process asks for batches of each case in turn, alternating the order each round; a batch is timed by the runtime's own clock, except on workerd, whose clock stands still while code runs: there the request is timed from outside, less the median cost of an empty one. × faster floor is the median over rounds of the ratio to the faster of the two floors timed in the same round. The **bold** row is the engine that runtime's export condition picks.",
  ];
  for (const runtime of results.runtimes) {
    if (runtime.status !== "measured") {
      out.push("", `**${runtime.name}: failed.** ${runtime.reason.split("\n")[0]}`);
      continue;
    }
    const picked = coreRowName(runtime.engine);
    out.push(
      "",
      `### ${runtime.name} (${runtime.version})`,
      "",
      `| case | ${runtime.sizes.map((size) => `${size.size} ops/s`).join(" | ")} | ${runtime.sizes.map((size) => `${size.size} × faster floor`).join(" | ")} |`,
      `|---|${runtime.sizes.map(() => "---:").join("|")}|${runtime.sizes.map(() => "---:").join("|")}|`,
    );
    for (const entry of runtime.sizes[0]!.rows) {
      const cells = runtime.sizes.map((size) => size.rows.find((r) => r.name === entry.name)!);
      out.push(
        `| ${entry.name === picked ? `**${entry.name}**` : entry.name} | ${cells.map((cell) => formatOps(cell.opsPerSec)).join(" | ")} | ${cells.map((cell) => cell.ratio.toFixed(2)).join(" | ")} |`,
      );
    }
  }
  const measured = results.runtimes.filter(
    (runtime): runtime is Extract<typeof runtime, { status: "measured" }> =>
      runtime.status === "measured",
  );
  if (measured.length > 0) {
    out.push(
      "",
      "### Bytes → event at 1 MiB",
      "",
      "Decoding the 1 MiB body to text and `JSON.parse`, by every strategy available that still refuses bytes that are not UTF-8 (the core must: two different signed bodies could otherwise decode to the same event). × fastest is against the fastest strategy of the same round; **bold**: what the core's engine on that runtime does.",
      "",
      `| strategy | ${measured.map((runtime) => `${runtime.name} ops/s | × fastest`).join(" | ")} |`,
      `|---|${measured.map(() => "---:|---:").join("|")}|`,
    );
    for (const entry of measured[0]!.decode) {
      out.push(
        `| ${entry.name.replace("decode: ", "")} | ${measured
          .map((runtime) => {
            const cell = runtime.decode.find((r) => r.name === entry.name)!;
            const used = decodeOf(runtime.id, runtime.engine) === entry.name;
            const value = `${formatOps(cell.opsPerSec)} | ${cell.ratio.toFixed(2)}`;
            return used ? `**${formatOps(cell.opsPerSec)}** | **${cell.ratio.toFixed(2)}**` : value;
          })
          .join(" | ")} |`,
      );
    }
  }
  return out;
}

function bundleSection(results: BenchResults): string[] {
  if (!results.bundle) return [];
  const out = [
    "",
    "## 7. Edge bundle",
    "",
    `The same small Cloudflare Worker (answer a delivery) written with each library, built by esbuild ${results.bundle.esbuild} as wrangler builds it (\`workerd\`/\`worker\`/\`browser\` conditions, ESM, minified), and gzipped (level 9). Only the core's does the whole job; the others verify, and the app still parses, dedupes and dispatches. \`bundle.test.ts\` keeps the core's under ${kb(results.bundle.budgetBytes)}.`,
    "",
    "| Worker with | does | minified | minified + gzipped |",
    "|---|---|---:|---:|",
  ];
  for (const entry of results.bundle.rows) {
    const name = entry.name === CORE_WORKER ? `**${entry.name}**` : entry.name;
    out.push(
      `| ${name} | ${entry.does} | ${kb(entry.minifiedBytes)} | ${kb(entry.gzippedBytes)} |`,
    );
  }
  return out;
}

/** BENCHMARKS.md, from one run's results. */
export function renderMarkdown(results: BenchResults, notes: string[] = []): string {
  const { meta } = results;
  const out: string[] = [
    "# Benchmarks",
    "",
    `Generated by \`pnpm bench\` (\`packages/bench\`) on ${meta.date.slice(0, 16).replace("T", " ")} UTC, in ${meta.durationSeconds} s. Rerun it rather than edit this file;`,
    "the raw numbers are in [`benchmarks.json`](./benchmarks.json).",
    "",
    `- **Machine**: ${meta.cpu}, ${meta.cores} cores, ${meta.memoryGiB} GiB, ${meta.platform}, kernel ${meta.kernel}.`,
    `  Shared and noisy: other jobs ran on the same cores during the run (load average ${meta.loadAverageAtStart.join(", ")} at start).`,
    "  Absolute numbers drift from run to run by tens of percent; the ratios, measured side by side in one run, are what to read.",
    `- **Runtime**: Node ${meta.node} (V8 ${meta.v8}).`,
    `- **Packages**: ${Object.entries(meta.packages)
      .map(([name, version]) => `${name} ${version}`)
      .join(", ")}.`,
  ];
  if (meta.smoke) {
    out.push(
      "",
      "> **Smoke run**: tiny iteration counts, to prove the bench runs. These numbers mean nothing.",
    );
  }

  out.push("", "## Targets", "");
  out.push(
    "The issue's targets, to be met by design and never asserted by a timed test (the machines are shared). Whether this run met them:",
    "",
    "| target | this run | verdict |",
    "|---|---|---|",
  );
  for (const check of checkTargets(results)) {
    out.push(`| ${check.target} | ${check.detail} | ${verdict(check.met)} |`);
  }

  out.push(
    "",
    "## How it is measured",
    "",
    `- Parts 1 and 2 use tinybench ${meta.packages.tinybench}. Each sample runs a batch of operations (32 at 256 B, 8 at 4 KiB, 1 above) and records their mean, so timer overhead stays small next to a few-µs verification. Each case runs ${meta.settings.measure.rounds} rounds of ${meta.settings.measure.timeMs} ms (after ${meta.settings.measure.warmupMs} ms warm-up), cases in alternating order. ops/s is the median over rounds of each round's median; × floor is the median over rounds of the ratio to the floor timed in the same round (so it need not equal the ratio of the two medians).`,
    "- Every operation is checked: each row's result must be the expected event (or `true` and then the parsed event, for Octokit), and `handle()` must answer `200 handled`. A failure stops the bench.",
    "- **Floor**: hand-written `node:crypto`: freshness check, `createHmac('sha256', secret).update(timestamp + '.').update(body)`, `timingSafeEqual` against the hex-decoded header, `JSON.parse` of the `Buffer`. The core and the floor get the body as a `Buffer`.",
    "- **Peers** each verify their own valid signatures over the same body: `svix` and `standardwebhooks` (`Webhook.verify(body, headers)`, which parse the JSON), `stripe` (`webhooks.constructEvent` and `constructEventAsync`, which parse it), `@octokit/webhooks-methods` (`verify(secret, string, signature)`, which only answers yes or no: the row includes the `Buffer`→string decode its API needs and the `JSON.parse` a caller then does).",
    "- **Bodies** are `job.completed` envelopes padded with an array of small records to exactly 256 B, 4 KiB, 64 KiB or 1 MiB, so `JSON.parse` does realistic work.",
    "- **handle()** cycles through distinct signed deliveries, twice as many as its `memoryStore({ maxEntries })` holds, so that every call verifies, claims a fresh id, runs the (empty) handler and marks it done, as on a full default store. Its floor is the verification floor plus what a hand-written receiver that dedupes does at least: the id looked up in a `Map` (a repeat refused), recorded, and the oldest dropped past the same bound through a ring of ids in arrival order (not `map.keys().next()`, which V8 makes walk every entry deleted before it: that floor cost 1.8 µs a delivery at 2,000 ids and 6.6 µs at 12,000, where the ring costs 1.0 and 0.45).",
    `- **HTTP** runs each server in its own process and autocannon ${meta.packages.autocannon} in the bench process (one core each): ${meta.settings.http.connections} connections, ${meta.settings.http.bodyBytes}-byte bodies, ${meta.settings.http.rounds} runs of ${meta.settings.http.durationSeconds} s per server after a ${meta.settings.http.warmupSeconds} s warm-up, floor and adapter alternating. The floor route dedupes as part 2's floor does, in a \`Map\` bounded at the adapters' default store bound (10,000): a receiver must dedupe, so a floor that did not would not be doing the adapter's job. Every request carries a distinct event id (a pool of ${meta.settings.http.poolSize.toLocaleString("en-US")}, above the default store bound), every answer must be 2xx, and the server must have run one handler per 2xx. Requests/s is the mean of autocannon's per-second samples; the table gives the median over runs, and × floor the median of the per-round ratios.`,
  );

  if (results.verification) {
    out.push("", "## 1. Verification", "");
    out.push(
      "`WebhookVerifier.verify()` against the floor and the peers, given the X-Kallima-* values (the row ending in *Kallima-Signature*: the same delivery's `Kallima-Signature` value alone; *verifySync*: the same values through the synchronous path Node's engine allows, no promise). Higher is better; × floor is the median of per-round ratios to the floor.",
    );
    for (const size of results.verification) out.push("", ...sizeTable(size));
    out.push(...awaitNote(results));
  }
  if (results.handle) {
    out.push("", "## 2. `handle()`", "");
    out.push(
      "`createWebhookHandler().handle()`: verify, claim in the memory store, run an empty handler, mark done; against the floor that verifies and records the id in a `Map`. Given the X-Kallima-* headers, or (the row ending in *Kallima-Signature*) the `Kallima-Signature` header alone, each row with its own handler and store.",
    );
    for (const size of results.handle) out.push("", ...sizeTable(size));
  }
  out.push(...formatNote(results));
  out.push(...observabilityNote(results));
  if (results.http) {
    out.push("", "## 3. Adapters end to end over HTTP", "");
    out.push(
      "Each adapter against the same framework serving a hand-written route that reads the raw body, runs the floor check and dedupes the id as part 2's floor does (a `Map` bounded at 10,000 ids, the adapters' default store bound).",
      "",
      "| framework | floor req/s | floor p99 | adapter | adapter req/s | adapter p99 | × floor |",
      "|---|---:|---:|---|---:|---:|---:|",
    );
    for (const framework of results.http) {
      if (framework.status === "measured") {
        out.push(
          `| ${framework.label} | ${Math.round(framework.floor.requestsPerSec)} | ${framework.floor.p99Ms} ms | ${framework.adapter} | ${Math.round(framework.adapterResult.requestsPerSec)} | ${framework.adapterResult.p99Ms} ms | ${framework.ratio.toFixed(2)} |`,
        );
      } else {
        out.push(
          `| ${framework.label} | – | – | ${framework.adapter} | – | – | ${framework.status} |`,
        );
      }
    }
    for (const framework of results.http) {
      if (framework.status !== "measured") {
        const reason = framework.reason.split("\n")[0];
        out.push("", `**${framework.label}: ${framework.status}.** ${reason}`);
      }
    }
  }
  if (results.memory) {
    const m = results.memory;
    out.push(
      "",
      "## 4. Memory",
      "",
      `${m.events.toLocaleString("en-US")} distinct ${m.bodyBytes}-byte events through \`handle()\` with \`memoryStore()\` at its default bound (${m.maxEntries.toLocaleString("en-US")} ids), heap measured after a forced GC:`,
      "",
      "| when | heap used |",
      "|---|---:|",
      `| before the first event | ${mib(m.heapBefore)} |`,
      `| store full (${m.maxEntries.toLocaleString("en-US")} events) | ${mib(m.heapWhenFull)} |`,
      `| after ${m.events.toLocaleString("en-US")} events | ${mib(m.heapAfter)} |`,
      "",
      `The store held ${m.storeSizeAfter.toLocaleString("en-US")} ids at the end and never more than its bound. Filling it cost about ${Math.round(m.bytesPerEntry)} bytes per id; the ${(m.events - m.maxEntries).toLocaleString("en-US")} events after that added ${kib(m.growthAfterFull)} (allowed: ${kib(m.slackBytes)} of GC noise), where keeping their ids would have cost about ${mib((m.events - m.maxEntries) * m.bytesPerEntry)}.`,
    );
  }
  out.push(...renderQueue(results.queue), ...runtimesSection(results), ...bundleSection(results));
  if (notes.length > 0) out.push("", "## Notes", "", ...notes);
  return `${out.join("\n")}\n`;
}
