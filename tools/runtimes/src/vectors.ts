// The host side of the in-runtime checks: runs runtime/vectors-cli.js on a process runtime, and
// reads the one JSON report a runtime gives back (runtime/check-vectors.js, with the report of
// runtime/check-observability.js under `observability`).
import type { ObservabilityReport } from "./in-runtime/check-observability.js";
import type { VectorsReport } from "./in-runtime/check-vectors.js";
import { message, noise, run } from "./processes.js";
import type { Runtime } from "./runtimes.js";
import type { Stage } from "./stage.js";

/** What one runtime reports back: the vectors, and the records + otel check (absent if it sent none). */
export type RuntimeReport = VectorsReport & { observability?: ObservabilityReport };

/** A runtime's report, with the core engine files its worker bundles resolved (workerd), or why there is none. */
export type VectorsOutcome = (RuntimeReport & { bundled?: string[] }) | { error: string };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const isObservability = (value: unknown): value is ObservabilityReport =>
  isRecord(value) &&
  typeof value.total === "number" &&
  Array.isArray(value.failures) &&
  value.failures.every((failure) => typeof failure === "string");

/** Checks that a value parsed from a runtime has the report's shape (an odd `observability` is dropped, and so fails). */
export function asReport(value: unknown): RuntimeReport {
  if (
    !isRecord(value) ||
    typeof value.runtime !== "string" ||
    typeof value.engine !== "string" ||
    !isRecord(value.lists)
  ) {
    throw new Error(`not a vectors report: ${JSON.stringify(value).slice(0, 400)}`);
  }
  const { observability, ...report } = value as unknown as RuntimeReport;
  return isObservability(observability) ? { ...report, observability } : report;
}

/** The last line of `text` that is a JSON object, as a report. */
export function parseVectorsReport(text: string): RuntimeReport {
  const line = text
    .split("\n")
    .reverse()
    .find((candidate) => candidate.startsWith("{"));
  if (!line) throw new Error(`no report: ${noise(text).slice(-800)}`);
  return asReport(JSON.parse(line));
}

/** Node, Bun and Deno: `<runtime> runtime/vectors-cli.js vectors.json deliveries.json` in the staged app. */
export async function vectorsInProcess(runtime: Runtime, staged: Stage): Promise<VectorsOutcome> {
  const result = await run(
    [...runtime.binary, ...runtime.scriptArgs],
    ["runtime/vectors-cli.js", staged.vectorsFile, staged.deliveriesFile],
    { cwd: staged.dir },
  );
  try {
    return parseVectorsReport(result.stdout);
  } catch (error) {
    return { error: `${message(error)} ${noise(result.stderr).slice(-800)}` };
  }
}
