import type { SignatureFormat } from "@kallima/webhooks";
import { CliError } from "./errors.js";

export type { SignatureFormat };

/** Kallima's two header formats, the values `--format` takes; the first is the default. */
export const SIGNATURE_FORMATS: readonly SignatureFormat[] = ["x-headers", "kallima-signature"];

/**
 * Reads a format name, or throws a {@link CliError} (`invalid_option`) that names both formats.
 *
 * @example
 * ```ts
 * parseSignatureFormat("kallima-signature"); // "kallima-signature"
 * parseSignatureFormat("stripe"); // throws CliError invalid_option
 * ```
 */
export function parseSignatureFormat(value: unknown, name = "--format"): SignatureFormat {
  const format = SIGNATURE_FORMATS.find((known) => known === value);
  if (format === undefined) {
    throw new CliError(
      "invalid_option",
      `${name} must be x-headers (X-Kallima-Signature + X-Kallima-Timestamp) or kallima-signature (Kallima-Signature: t=…,v1=…), got ${JSON.stringify(value)}.`,
    );
  }
  return format;
}

/** The header(s) of a format, as messages name them. */
export function describeFormat(format: SignatureFormat): string {
  return format === "kallima-signature"
    ? "Kallima-Signature: t=…,v1=…"
    : "X-Kallima-Signature + X-Kallima-Timestamp";
}
