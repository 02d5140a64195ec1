// The table of runtime × result, the lines that explain each failure, and what counts as a pass.
import type { ExampleOutcome } from "./example.js";
import { LIST_NAMES, type ListName } from "./in-runtime/check-vectors.js";
import type { Install, Runtime } from "./runtimes.js";
import type { VectorsOutcome } from "./vectors.js";

/** What the checks came to on one runtime. */
export interface RuntimeResult {
  vectors: VectorsOutcome;
  example: ExampleOutcome;
}

export interface Row extends RuntimeResult {
  runtime: Runtime;
  install: Install;
  seconds: number;
}

const LIST_TITLES: Record<ListName, string> = {
  vectors: "X-Kallima-* vectors",
  kallima_signature_vectors: "Kallima-Signature vectors",
};

const vectorFailures = (vectors: VectorsOutcome): string[] =>
  "error" in vectors
    ? [vectors.error]
    : LIST_NAMES.flatMap((list) => vectors.lists[list]?.failures ?? [`${list}: no report`]);

function vectorsCell(vectors: VectorsOutcome, list: ListName): string {
  if ("error" in vectors) return "ERROR";
  const report = vectors.lists[list];
  if (!report) return "ERROR";
  const passed = report.total - Math.min(report.total, report.failures.length);
  return `${passed}/${report.total} ${report.failures.length ? "FAIL" : "ok"}`;
}

/** The records + otel check's failures: the reason when the runtime sent no report of it. */
const observabilityFailures = (vectors: VectorsOutcome): string[] =>
  "error" in vectors
    ? [vectors.error]
    : (vectors.observability?.failures ?? ["no report from the runtime"]);

function observabilityCell(vectors: VectorsOutcome): string {
  if ("error" in vectors || !vectors.observability) return "ERROR";
  const { total, failures } = vectors.observability;
  return `${total - Math.min(total, failures.length)}/${total} ${failures.length ? "FAIL" : "ok"}`;
}

const exampleCell = (example: ExampleOutcome): string =>
  "error" in example
    ? "ERROR"
    : `${example.total - example.failures.length}/${example.total} ${example.failures.length ? "FAIL" : "ok"}`;

const engineOf = (row: Row): string | undefined =>
  "error" in row.vectors ? undefined : row.vectors.engine;

const engineOk = (row: Row): boolean => engineOf(row) === row.runtime.engine;

/**
 * A row passes when its runtime installed, every vector, records + otel check and example case
 * passed, on the expected engine.
 */
export const rowOk = (row: Row): boolean =>
  row.install.ok &&
  !("error" in row.vectors) &&
  !("error" in row.example) &&
  vectorFailures(row.vectors).length === 0 &&
  observabilityFailures(row.vectors).length === 0 &&
  row.example.failures.length === 0 &&
  engineOk(row);

function cells(row: Row): string[] {
  const engine = engineOf(row);
  return [
    row.runtime.name,
    ("error" in row.vectors ? undefined : row.vectors.runtime) ?? row.install.version ?? "?",
    engine ? `${engine}${engineOk(row) ? "" : ` (expected ${row.runtime.engine})`}` : "?",
    ...LIST_NAMES.map((list) => vectorsCell(row.vectors, list)),
    observabilityCell(row.vectors),
    exampleCell(row.example),
    rowOk(row) ? "PASS" : "FAIL",
  ];
}

/** The Markdown table, one line per runtime. */
export function table(rows: readonly Row[]): string {
  const lines = [
    [
      "runtime",
      "version",
      "HMAC engine (core)",
      ...LIST_NAMES.map((list) => LIST_TITLES[list]),
      "records + otel",
      "Hono example",
      "result",
    ],
    ...rows.map(cells),
  ];
  const header = lines[0] ?? [];
  const widths = header.map((_, column) =>
    Math.max(...lines.map((line) => (line[column] ?? "").length)),
  );
  const format = (line: readonly string[]) =>
    `| ${line.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(" | ")} |`;
  return [
    format(header),
    `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`,
    ...lines.slice(1).map(format),
  ].join("\n");
}

/** A line per problem, and which engine files the worker bundles took in. */
export function details(rows: readonly Row[]): string[] {
  const out: string[] = [];
  for (const row of rows) {
    const name = row.runtime.name;
    if (!("error" in row.vectors) && row.vectors.bundled) {
      out.push(`${name}: worker bundles resolved #crypto to ${row.vectors.bundled.join(", ")}`);
    }
    const problems = [
      ...("error" in row.vectors
        ? [`vectors: ${row.vectors.error}`]
        : [
            ...vectorFailures(row.vectors).map((failure) => `vector ${failure}`),
            ...observabilityFailures(row.vectors).map((failure) => `records + otel: ${failure}`),
          ]),
      ...("error" in row.example
        ? [`example: ${row.example.error}`]
        : row.example.failures.map((failure) => `example ${failure}`)),
    ];
    for (const problem of problems) out.push(`${name}: ${problem}`);
  }
  return out;
}
