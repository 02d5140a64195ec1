/** Codes of {@link KallimaNestError}. */
export type KallimaNestErrorCode = "invalid_decorator" | "event_unavailable";

/**
 * A misuse of this adapter in application code (not a delivery failure, which becomes an HTTP
 * answer). Match on the stable `code`.
 *
 * @example
 * ```ts
 * if (error instanceof KallimaNestError && error.code === "event_unavailable") …
 * ```
 */
export class KallimaNestError extends Error {
  readonly code: KallimaNestErrorCode;

  constructor(code: KallimaNestErrorCode, message: string) {
    super(message);
    this.name = "KallimaNestError";
    this.code = code;
  }
}
