// The adapter side of the core: what framework adapters need to translate a request into the
// core's and its result back. Applications import from "@kallima/webhooks" instead.
export {
  checkBodySize,
  checkContentLength,
  DEFAULT_MAX_BODY_BYTES,
  readRequestBody,
  readStreamWithLimit,
} from "./body.js";
export {
  buildWebhookHandler,
  type HandlerBuildSettings,
  isWebhookHandler,
  type RawBodyReader,
  resolveWebhookHandler,
  type VerifyRequestOutcome,
  type WebhookRequest,
} from "./handler.js";
export {
  type HeadersInput,
  type HeaderValue,
  KALLIMA_SIGNATURE_HEADER,
  readHeader,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
} from "./headers.js";
export type { WebhookLogDetails } from "./logging.js";
export {
  acceptedResult,
  errorResult,
  inProgressResult,
  methodNotAllowedResult,
  toResponse,
} from "./result.js";
export { createVerifierSource, type VerifierSource } from "./secrets.js";
export { createVerifyOnlyHandler, type VerifyOnlyOptions } from "./verify-only.js";
