// The host side of the vectors check: runs runtime/vectors-cli.js on a process runtime, and
// reads the one JSON report a runtime gives back (runtime/check-vectors.js).
import type { VectorsReport } from "./in-runtime/check-vectors.js";
import { message, noise, run } from "./processes.js";
import type { Runtime } from "./runtimes.js";
import type { Stage } from "./stage.js";

/** A runtime's report, with the core engine files its worker bundles resolved (workerd), or why there is none. */
export type VectorsOutcome = (VectorsReport & { bundled?: string[] }) | { error: string };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Checks that a value parsed from a runtime has the report's shape. */
export function asReport(value: unknown): VectorsReport {
  if (
    !isRecord(value) ||
    typeof value.runtime !== "string" ||
    typeof value.engine !== "string" ||
    !isRecord(value.lists)
  ) {
    throw new Error(`not a vectors report: ${JSON.stringify(value).slice(0, 400)}`);
  }
  return value as unknown as VectorsReport;
}

/** The last line of `text` that is a JSON object, as a report. */
export function parseVectorsReport(text: string): VectorsReport {
  const line = text
    .split("\n")
    .reverse()
    .find((candidate) => candidate.startsWith("{"));
  if (!line) throw new Error(`no report: ${noise(text).slice(-800)}`);
  return asReport(JSON.parse(line));
}

/** Node, Bun and Deno: `<runtime> runtime/vectors-cli.js vectors.json` in the staged app. */
export async function vectorsInProcess(runtime: Runtime, staged: Stage): Promise<VectorsOutcome> {
  const result = await run(
    [...runtime.binary, ...runtime.scriptArgs],
    ["runtime/vectors-cli.js", staged.vectorsFile],
    { cwd: staged.dir },
  );
  try {
    return parseVectorsReport(result.stdout);
  } catch (error) {
    return { error: `${message(error)} ${noise(result.stderr).slice(-800)}` };
  }
}
