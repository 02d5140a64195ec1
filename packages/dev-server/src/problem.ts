import { randomBytes } from "node:crypto";
import type { ProblemDocument } from "./wire.js";

/** Stable codes of the dev server's error answers; match on `code`, never on the text. */
export type ApiProblemCode =
  | "unauthorized"
  | "not_found"
  | "method_not_allowed"
  | "invalid_json"
  | "validation_error"
  | "payload_too_large"
  | "webhook_disabled"
  | "webhook_deleted"
  | "idempotency_key_reused"
  | "internal_error";

const TITLES: Record<ApiProblemCode, string> = {
  unauthorized: "Unauthorized",
  not_found: "Not found",
  method_not_allowed: "Method not allowed",
  invalid_json: "Invalid JSON",
  validation_error: "Validation error",
  payload_too_large: "Payload too large",
  webhook_disabled: "Webhook disabled",
  webhook_deleted: "Webhook deleted",
  idempotency_key_reused: "Idempotency key reused",
  internal_error: "Internal error",
};

/**
 * An API call that fails with a problem+json answer. Thrown by the route code; the server turns
 * it into the answer, with the request's path as `instance` and its `request_id`.
 *
 * @example
 * ```ts
 * throw new ApiProblem(404, "not_found", `No webhook ${id}.`);
 * ```
 */
export class ApiProblem extends Error {
  readonly status: number;
  readonly code: ApiProblemCode;
  /** Extra headers of the answer, e.g. `Allow` for a 405. */
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: ApiProblemCode,
    detail: string,
    headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = "ApiProblem";
    this.status = status;
    this.code = code;
    this.headers = headers;
  }

  /** The problem+json body of this error for one request. */
  toDocument(instance: string, requestId: string): ProblemDocument {
    return {
      type: `https://docs.kallima.example/problems/${this.code.replaceAll("_", "-")}`,
      title: TITLES[this.code],
      status: this.status,
      detail: this.message,
      instance,
      code: this.code,
      request_id: requestId,
    };
  }
}

/** A fresh request id, sent as `X-Request-Id` and in every problem+json body. */
export function createRequestId(): string {
  return `req_${randomBytes(12).toString("hex")}`;
}
