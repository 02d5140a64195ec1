import { readFile } from "node:fs/promises";
import { CliError } from "./errors.js";

/**
 * The value of `--data`: inline JSON, or `@file.json` read from disk. Always a JSON object (the
 * event's data, merged into the fixture); anything else is a usage error naming the source.
 */
export async function parseData(value: string): Promise<Record<string, unknown>> {
  let text = value;
  let source = "--data";
  if (value.startsWith("@")) {
    source = value.slice(1);
    try {
      text = await readFile(source, "utf8");
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new CliError("read_failed", `Cannot read ${source}${code ? ` (${code})` : ""}.`, {
        cause: error,
      });
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError("invalid_data", `${source} is not valid JSON: ${reason}`, { cause: error });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new CliError("invalid_data", `${source} must be a JSON object (the event's data).`);
  }
  return parsed as Record<string, unknown>;
}
