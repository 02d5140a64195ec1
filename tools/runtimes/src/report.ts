// The table of runtime × result, the lines that explain each failure, and what counts as a pass.
import type { ExampleOutcome } from "./example.js";
import { LIST_NAMES, type ListName } from "./in-runtime/check-vectors.js";
import { RECIPES, type RecipeResult } from "./recipes.js";
import type { Install, Runtime } from "./runtimes.js";
import type { VectorsOutcome } from "./vectors.js";

/** What the checks came to on one runtime. */
export interface RuntimeResult {
  vectors: VectorsOutcome;
  example: ExampleOutcome;
  /** The runtime's Fetch recipes, one result each (none on Node: they run in vitest there). */
  recipes: RecipeResult[];
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

const recipeFailures = (result: RecipeResult): string[] =>
  "error" in result.outcome ? [result.outcome.error] : result.outcome.failures;

/** `Bun.serve 11/11 ok, Elysia 11/11 ok`; `—` where the runtime has no recipe of its own. */
function recipesCell(row: Row): string {
  if (row.runtime.recipes.length === 0) return "—";
  return row.runtime.recipes
    .map((id) => {
      const result = row.recipes.find((recipe) => recipe.id === id);
      if (!result || "error" in result.outcome) return `${RECIPES[id].name} ERROR`;
      const { total, failures } = result.outcome;
      const passed = total - Math.min(total, failures.length);
      return `${RECIPES[id].name} ${passed}/${total} ${failures.length ? "FAIL" : "ok"}`;
    })
    .join(", ");
}

/** Every recipe of the runtime ran and passed. */
const recipesOk = (row: Row): boolean =>
  row.runtime.recipes.every((id) => {
    const result = row.recipes.find((recipe) => recipe.id === id);
    return result !== undefined && recipeFailures(result).length === 0;
  });

const engineOf = (row: Row): string | undefined =>
  "error" in row.vectors ? undefined : row.vectors.engine;

const engineOk = (row: Row): boolean => engineOf(row) === row.runtime.engine;

/**
 * A row passes when its runtime installed, every vector, records + otel check, example case and
 * recipe check passed, on the expected engine.
 */
export const rowOk = (row: Row): boolean =>
  row.install.ok &&
  !("error" in row.vectors) &&
  !("error" in row.example) &&
  vectorFailures(row.vectors).length === 0 &&
  observabilityFailures(row.vectors).length === 0 &&
  row.example.failures.length === 0 &&
  recipesOk(row) &&
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
    recipesCell(row),
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
      "Fetch recipes",
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
      ...row.recipes.flatMap((result) =>
        recipeFailures(result).map((failure) => `recipe ${RECIPES[result.id].name}: ${failure}`),
      ),
    ];
    for (const problem of problems) out.push(`${name}: ${problem}`);
  }
  return out;
}
