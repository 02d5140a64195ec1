/**
 * Error codes a verifier reports, exactly as listed in the Kallima webhook protocol.
 * They are stable: match on `error.code`, never on the message.
 */
export const VERIFICATION_ERROR_CODES = [
  "missing_signature",
  "missing_timestamp",
  "invalid_timestamp",
  "timestamp_too_old",
  "timestamp_in_future",
  "invalid_signature",
  "invalid_payload",
] as const;

/** One of the protocol's verification error codes. */
export type VerificationErrorCode = (typeof VERIFICATION_ERROR_CODES)[number];

/** Codes of errors raised by a misconfigured verifier or handler (thrown at construction). */
export type ConfigErrorCode = "invalid_secret" | "invalid_tolerance" | "invalid_option";

/**
 * Codes of answers that carry no error object: the request was not a POST, or the same event is
 * being handled by another delivery right now.
 */
export type AnswerOnlyCode = "method_not_allowed" | "event_in_progress";

/** Every code that can appear in an answer's `{ "error": { "code" } }`. */
export type WebhookAnswerCode = WebhookErrorCode | AnswerOnlyCode;

/** Every code a `KallimaWebhookError` can carry. */
export type WebhookErrorCode =
  | VerificationErrorCode
  | ConfigErrorCode
  | "payload_too_large"
  | "request_aborted"
  | "raw_body_unavailable"
  | "handler_failed"
  | "handler_timeout"
  | "idempotency_store_unavailable"
  | "queue_unavailable";

/**
 * Base class of every error this library throws. Each has a stable `code`.
 *
 * @example
 * ```ts
 * try { await verifier.verify(input) } catch (error) {
 *   if (error instanceof KallimaWebhookError) console.warn(error.code);
 * }
 * ```
 */
export class KallimaWebhookError extends Error {
  readonly code: WebhookErrorCode;

  constructor(code: WebhookErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "KallimaWebhookError";
    this.code = code;
  }
}

/**
 * A delivery failed verification: its `code` is one of the protocol's codes.
 *
 * @example
 * ```ts
 * catch (error) {
 *   if (error instanceof WebhookSignatureError && error.code === "timestamp_too_old") …
 * }
 * ```
 */
export class WebhookSignatureError extends KallimaWebhookError {
  declare readonly code: VerificationErrorCode;
  /**
   * The signed timestamp (Unix seconds) of a delivery refused for its age
   * (`timestamp_too_old`, `timestamp_in_future`), so that its age can be reported.
   */
  readonly signedAt?: number;

  constructor(
    code: VerificationErrorCode,
    message: string,
    options?: { cause?: unknown; signedAt?: number },
  ) {
    super(code, message, options && "cause" in options ? { cause: options.cause } : undefined);
    this.name = "WebhookSignatureError";
    if (options?.signedAt !== undefined) this.signedAt = options.signedAt;
  }
}

/**
 * The verifier or handler was given options that would make it unsafe or unusable.
 * Thrown at construction, so a bad deployment fails at start-up rather than on the first delivery.
 */
export class WebhookConfigError extends KallimaWebhookError {
  declare readonly code: ConfigErrorCode;

  constructor(code: ConfigErrorCode, message: string) {
    super(code, message);
    this.name = "WebhookConfigError";
  }
}

/** The request body is larger than `maxBodyBytes`. */
export class PayloadTooLargeError extends KallimaWebhookError {
  declare readonly code: "payload_too_large";
  readonly limitBytes: number;

  constructor(limitBytes: number) {
    super(
      "payload_too_large",
      `The request body is larger than maxBodyBytes (${limitBytes} bytes).`,
    );
    this.name = "PayloadTooLargeError";
    this.limitBytes = limitBytes;
  }
}

/**
 * The raw request bytes cannot be recovered (for example a JSON body parser consumed them).
 * Verification needs the exact bytes, so this is a server misconfiguration; the message says how to fix it.
 */
export class RawBodyUnavailableError extends KallimaWebhookError {
  declare readonly code: "raw_body_unavailable";

  constructor(message: string) {
    super("raw_body_unavailable", message);
    this.name = "RawBodyUnavailableError";
  }
}

/**
 * The request body could not be read to its end: the client closed or reset the connection, a
 * server timeout cut the upload, or the body stream failed. `cause` holds the stream's error.
 * Nobody is usually left to read the answer; it is a 400 for the record.
 */
export class RequestAbortedError extends KallimaWebhookError {
  declare readonly code: "request_aborted";

  constructor(message: string, options?: { cause?: unknown }) {
    super("request_aborted", message, options);
    this.name = "RequestAbortedError";
  }
}

/**
 * A handler was still running at `deadlineMs`. The delivery is answered 503 with `Retry-After` so
 * that Kallima (which gives up after 30 s) retries; the handler keeps running and keeps its claim,
 * so the retry gets 409 while it runs and 200 `duplicate` once it succeeded.
 */
export class HandlerTimeoutError extends KallimaWebhookError {
  declare readonly code: "handler_timeout";
  readonly deadlineMs: number;

  constructor(eventType: string, deadlineMs: number) {
    super(
      "handler_timeout",
      `The handler for "${eventType}" was still running after ${deadlineMs} ms; it goes on, and the retry is answered once it is done.`,
    );
    this.name = "HandlerTimeoutError";
    this.deadlineMs = deadlineMs;
  }
}

/** A registered event handler threw or rejected; `cause` holds what it threw. */
export class HandlerFailedError extends KallimaWebhookError {
  declare readonly code: "handler_failed";

  constructor(eventType: string, cause: unknown) {
    super("handler_failed", `The handler for "${eventType}" failed.`, { cause });
    this.name = "HandlerFailedError";
  }
}

/** The idempotency store could not be reached or answered with an error; `cause` holds it. */
export class IdempotencyStoreError extends KallimaWebhookError {
  declare readonly code: "idempotency_store_unavailable";

  constructor(operation: string, cause: unknown) {
    super("idempotency_store_unavailable", `The idempotency store failed during ${operation}.`, {
      cause,
    });
    this.name = "IdempotencyStoreError";
  }
}

/**
 * Queue mode could not store a verified delivery (the queue engine failed or did not answer in
 * time); `cause` holds why. Answered 503 with `Retry-After`, so the sender retries and nothing is
 * lost.
 */
export class QueueUnavailableError extends KallimaWebhookError {
  declare readonly code: "queue_unavailable";

  constructor(cause: unknown) {
    super("queue_unavailable", "The queue did not accept the delivery.", { cause });
    this.name = "QueueUnavailableError";
  }
}
