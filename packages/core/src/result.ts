import type {
  AnswerOnlyCode,
  KallimaWebhookError,
  WebhookAnswerCode,
  WebhookErrorCode,
} from "./errors.js";
import type { VerifiedKallimaEvent } from "./events.js";
import type { SignatureFormat } from "./signature-headers.js";

/** What became of a delivery. */
export type WebhookOutcome =
  /** Verified, and every handler succeeded. */
  | "handled"
  /** Verified, but no handler is registered for its type; acknowledged so it is not retried. */
  | "unhandled"
  /** Already handled before; acknowledged without running handlers again. */
  | "duplicate"
  /** Another delivery of the same event is being handled right now. */
  | "in_progress"
  /** Failed verification, was too large, or the raw body was unavailable. */
  | "rejected"
  /** A handler threw: nothing was marked handled, so the sender's retry runs it again. */
  | "handler_failed"
  /** The idempotency store failed; handlers did not run. */
  | "store_unavailable"
  /** A handler outlived `deadlineMs`: answered 503, it goes on running and keeps its claim. */
  | "handler_timeout"
  /** Queue mode: stored in the queue (answered 202); a worker runs the handlers. */
  | "queued"
  /** Queue mode: the queue did not accept it; answered 503, nothing was stored. */
  | "queue_unavailable";

/**
 * A framework-neutral answer: adapters copy `status`, `headers` and `body` to their response.
 *
 * @example
 * ```ts
 * const result = await handler.handle({ headers: req.headers, rawBody });
 * res.writeHead(result.status, result.headers).end(result.body);
 * ```
 */
export interface WebhookResult {
  status: number;
  headers: Record<string, string>;
  /** JSON text: `{ "received": true, … }` or `{ "error": { "code", "message" } }`. */
  body: string;
  outcome: WebhookOutcome;
  /** The verified event, when verification succeeded. */
  event?: VerifiedKallimaEvent;
  /** The error behind a non-2xx answer. */
  error?: KallimaWebhookError;
  /** Which configured secret the delivery was signed with (its index), once verified. */
  secretIndex?: number;
  /** Which header format the delivery used, once verified. */
  format?: SignatureFormat;
}

/** Seconds a sender should wait before retrying an event that is being handled elsewhere. */
export const RETRY_AFTER_IN_PROGRESS_SECONDS = 10;
/** Seconds a sender should wait before retrying when the idempotency store is down. */
export const RETRY_AFTER_STORE_SECONDS = 30;
/** Seconds a sender should wait before retrying a delivery whose handler outlived its deadline. */
export const RETRY_AFTER_TIMEOUT_SECONDS = 30;
/** Seconds a sender should wait before retrying when the queue did not accept a delivery. */
export const RETRY_AFTER_QUEUE_SECONDS = 30;

const STATUS_BY_CODE: Record<WebhookErrorCode, number> = {
  missing_signature: 400,
  missing_timestamp: 400,
  invalid_timestamp: 400,
  invalid_payload: 400,
  invalid_signature: 401,
  timestamp_too_old: 401,
  timestamp_in_future: 401,
  payload_too_large: 413,
  request_aborted: 400,
  raw_body_unavailable: 500,
  handler_failed: 500,
  handler_timeout: 503,
  invalid_secret: 500,
  invalid_tolerance: 500,
  invalid_option: 500,
  idempotency_store_unavailable: 503,
  queue_unavailable: 503,
};

const JSON_HEADERS = {
  "content-type": "application/json; charset=utf-8",
  "cache-control": "no-store",
} as const;

const STATUS_BY_ANSWER_CODE: Record<AnswerOnlyCode, number> = {
  method_not_allowed: 405,
  event_in_progress: 409,
};

/** The HTTP status this library answers for a code (any code an answer can carry). */
export function statusForCode(code: WebhookAnswerCode): number {
  return code in STATUS_BY_CODE
    ? STATUS_BY_CODE[code as WebhookErrorCode]
    : STATUS_BY_ANSWER_CODE[code as AnswerOnlyCode];
}

const ACCEPTED_BODIES = {
  handled: JSON.stringify({ received: true, outcome: "handled" }),
  unhandled: JSON.stringify({ received: true, outcome: "unhandled" }),
  duplicate: JSON.stringify({ received: true, outcome: "duplicate" }),
  queued: JSON.stringify({ received: true, outcome: "queued" }),
} as const;

/** A 2xx answer for a verified event: 202 once queued (a worker runs it later), 200 otherwise. */
export function acceptedResult(
  outcome: "handled" | "unhandled" | "duplicate" | "queued",
  event: VerifiedKallimaEvent,
): WebhookResult {
  return {
    status: outcome === "queued" ? 202 : 200,
    headers: { ...JSON_HEADERS },
    body: ACCEPTED_BODIES[outcome],
    outcome,
    event,
  };
}

/**
 * The answer for an error: its status, and a body with its code and message (which never hold
 * the secret or the request body).
 */
export function errorResult(
  error: KallimaWebhookError,
  outcome: Exclude<WebhookOutcome, "handled" | "unhandled" | "duplicate" | "queued"> = "rejected",
  event?: VerifiedKallimaEvent,
): WebhookResult & { error: KallimaWebhookError } {
  const headers: Record<string, string> = { ...JSON_HEADERS };
  if (error.code === "idempotency_store_unavailable") {
    headers["retry-after"] = String(RETRY_AFTER_STORE_SECONDS);
  } else if (error.code === "handler_timeout") {
    headers["retry-after"] = String(RETRY_AFTER_TIMEOUT_SECONDS);
  } else if (error.code === "queue_unavailable") {
    headers["retry-after"] = String(RETRY_AFTER_QUEUE_SECONDS);
  }
  return {
    status: statusForCode(error.code),
    headers,
    body: JSON.stringify({ error: { code: error.code, message: error.message } }),
    outcome,
    error,
    ...(event ? { event } : {}),
  };
}

/**
 * 405 with `Allow: POST`: Kallima delivers with POST only.
 *
 * @example
 * ```ts
 * if (req.method !== "POST") return writeResult(res, methodNotAllowedResult());
 * ```
 */
export function methodNotAllowedResult(): WebhookResult {
  return {
    status: 405,
    headers: { ...JSON_HEADERS, allow: "POST" },
    body: JSON.stringify({
      error: { code: "method_not_allowed", message: "Kallima webhooks are delivered with POST." },
    }),
    outcome: "rejected",
  };
}

/** 409: the same event id is being handled by another delivery right now. */
export function inProgressResult(event: VerifiedKallimaEvent): WebhookResult {
  return {
    status: 409,
    headers: { ...JSON_HEADERS, "retry-after": String(RETRY_AFTER_IN_PROGRESS_SECONDS) },
    body: JSON.stringify({
      error: {
        code: "event_in_progress",
        message: "This event is being handled by another delivery; retry later.",
      },
    }),
    outcome: "in_progress",
    event,
  };
}

/** Turns a result into a Fetch `Response`. */
export function toResponse(result: WebhookResult): Response {
  return new Response(result.body, { status: result.status, headers: result.headers });
}
