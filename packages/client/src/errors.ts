import type { ProblemDetails } from "./types.js";

/** Codes of the failures that happen on this side of the wire: no answer, or an unusable one. */
export type ClientErrorCode =
  /** The server could not be reached (refused, DNS, reset, TLS). */
  | "connection_failed"
  /** No answer within `timeoutMs`. */
  | "timeout"
  /** The caller's `signal` aborted the call. */
  | "aborted"
  /** A 2xx answer whose body is not the JSON the call expects. */
  | "invalid_response"
  /** A bad argument (an empty id, no API key, a base URL that is not http(s)); nothing was sent. */
  | "invalid_argument";

/**
 * The code of an API error when Kallima's problem+json body carries none: one per status class.
 * When the body has a `code` (`insufficient_credits`, …), that is the error's code instead.
 */
export type ApiErrorFallbackCode =
  | "bad_request"
  | "unauthorized"
  | "payment_required"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "unprocessable_entity"
  | "rate_limited"
  | "server_error"
  | "http_error";

/**
 * Every error this client throws. Match on `code`, which is stable; the message is for people.
 *
 * @example
 * ```ts
 * try { await kallima.webhooks.retrieve(id) } catch (error) {
 *   if (error instanceof KallimaError && error.code === "not_found") return null;
 *   throw error;
 * }
 * ```
 */
export class KallimaError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "KallimaError";
    this.code = code;
  }
}

/**
 * No usable answer: the server was unreachable, too slow, the call was aborted, or a 2xx body
 * was not JSON. Idempotent calls were already retried before this is thrown.
 *
 * @example
 * ```ts
 * if (error instanceof KallimaConnectionError && error.code === "timeout") console.warn("slow API");
 * ```
 */
export class KallimaConnectionError extends KallimaError {
  declare readonly code: ClientErrorCode;

  constructor(code: ClientErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "KallimaConnectionError";
  }
}

/** What {@link KallimaApiError} is built from. */
export interface ApiErrorInit {
  status: number;
  problem: ProblemDetails;
  /** From the body's `request_id`, else the `x-request-id` header. */
  requestId: string | undefined;
  /** Seconds the server asked to wait (`Retry-After`), when it said. */
  retryAfterSeconds: number | undefined;
}

/**
 * Kallima answered with an error (problem+json): `status`, `code`, `title`, `detail`, `type`,
 * `instance` and `requestId` (quote it to Kallima's support). Subclasses name the common statuses.
 *
 * @example
 * ```ts
 * if (error instanceof KallimaApiError) console.error(error.status, error.code, error.requestId);
 * ```
 */
export class KallimaApiError extends KallimaError {
  /** Kallima's code from the problem body, else the status's {@link ApiErrorFallbackCode}. */
  declare readonly code: ApiErrorFallbackCode | (string & {});
  readonly status: number;
  readonly title: string | undefined;
  readonly detail: string | undefined;
  readonly type: string | undefined;
  readonly instance: string | undefined;
  readonly requestId: string | undefined;
  /** Seconds the server asked to wait before trying again (`Retry-After`), if it said. */
  readonly retryAfterSeconds: number | undefined;
  /** The whole problem+json body, extension members included. */
  readonly problem: ProblemDetails;

  constructor(init: ApiErrorInit) {
    const { status, problem } = init;
    const code =
      typeof problem.code === "string" && problem.code !== "" ? problem.code : fallbackCode(status);
    super(code, describe(status, code, problem, init.requestId));
    this.name = "KallimaApiError";
    this.status = status;
    this.title = problem.title;
    this.detail = problem.detail;
    this.type = problem.type;
    this.instance = problem.instance;
    this.requestId = init.requestId;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.problem = problem;
  }
}

/** 400: the request was malformed (a bad URL, an unknown event type, …). */
export class BadRequestError extends KallimaApiError {
  override readonly name = "BadRequestError";
}
/** 401: the API key is missing, wrong or revoked. */
export class AuthenticationError extends KallimaApiError {
  override readonly name = "AuthenticationError";
}
/** 402: e.g. `insufficient_credits`. */
export class PaymentRequiredError extends KallimaApiError {
  override readonly name = "PaymentRequiredError";
}
/** 403: the key may not do this. */
export class PermissionDeniedError extends KallimaApiError {
  override readonly name = "PermissionDeniedError";
}
/** 404: no such webhook or delivery in this organisation. */
export class NotFoundError extends KallimaApiError {
  override readonly name = "NotFoundError";
}
/** 409: the request conflicts with the resource's state. */
export class ConflictError extends KallimaApiError {
  override readonly name = "ConflictError";
}
/** 422: well-formed but invalid. */
export class UnprocessableEntityError extends KallimaApiError {
  override readonly name = "UnprocessableEntityError";
}
/** 429: rate limit or quota; `retryAfterSeconds` says when to try again. */
export class RateLimitError extends KallimaApiError {
  override readonly name = "RateLimitError";
}
/** 5xx: Kallima failed; idempotent calls were retried before this is thrown. */
export class ServerError extends KallimaApiError {
  override readonly name = "ServerError";
}

const CLASS_OF_STATUS: Record<number, new (init: ApiErrorInit) => KallimaApiError> = {
  400: BadRequestError,
  401: AuthenticationError,
  402: PaymentRequiredError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  422: UnprocessableEntityError,
  429: RateLimitError,
};

/** The error class for an answer's status. */
export function apiErrorFor(init: ApiErrorInit): KallimaApiError {
  const ErrorClass =
    CLASS_OF_STATUS[init.status] ?? (init.status >= 500 ? ServerError : KallimaApiError);
  return new ErrorClass(init);
}

function fallbackCode(status: number): ApiErrorFallbackCode {
  switch (status) {
    case 400:
      return "bad_request";
    case 401:
      return "unauthorized";
    case 402:
      return "payment_required";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 409:
      return "conflict";
    case 422:
      return "unprocessable_entity";
    case 429:
      return "rate_limited";
    default:
      return status >= 500 ? "server_error" : "http_error";
  }
}

function describe(
  status: number,
  code: string,
  problem: ProblemDetails,
  requestId: string | undefined,
): string {
  const what = [problem.title, problem.detail].filter(
    (part) => typeof part === "string" && part !== "",
  );
  const head = what.length > 0 ? what.join(": ") : `HTTP ${status}`;
  return `${head} (status ${status}, code ${code}${requestId ? `, request ${requestId}` : ""})`;
}
