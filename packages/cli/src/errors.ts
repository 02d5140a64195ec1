/** Codes of the errors the CLI and its library functions raise. They are stable: match on `code`. */
export type CliErrorCode =
  /** No secret in `--secret` nor in `KALLIMA_WEBHOOK_SECRET`, or one that is not a `whsec_…` secret. */
  | "invalid_secret"
  /** `--data` (or the file it names) is not a JSON object. */
  | "invalid_data"
  /** An option has a value out of range or conflicts with another option. */
  | "invalid_option"
  /** An `endpoints` command without `--api-key` nor `KALLIMA_API_KEY`. */
  | "missing_api_key"
  /** A body file (or stdin) could not be read. */
  | "read_failed"
  /** The endpoint could not be reached (refused, DNS, reset). */
  | "unreachable"
  /** The endpoint did not answer within the timeout. */
  | "timeout";

/**
 * An expected failure with a message meant for a person; the CLI prints the message without a
 * stack trace and exits with code 2 (bad input) or 1 (the endpoint could not be reached).
 *
 * @example
 * ```ts
 * try { await sendDelivery(url, delivery) } catch (error) {
 *   if (error instanceof CliError && error.code === "unreachable") console.error(error.message);
 * }
 * ```
 */
export class CliError extends Error {
  readonly code: CliErrorCode;

  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CliError";
    this.code = code;
  }
}
