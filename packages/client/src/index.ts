export { DEFAULT_BASE_URL, KallimaClient, type KallimaClientOptions } from "./client.js";
export {
  type ApiErrorFallbackCode,
  type ApiErrorInit,
  AuthenticationError,
  BadRequestError,
  type ClientErrorCode,
  ConflictError,
  KallimaApiError,
  KallimaConnectionError,
  KallimaError,
  NotFoundError,
  PaymentRequiredError,
  PermissionDeniedError,
  RateLimitError,
  ServerError,
  UnprocessableEntityError,
} from "./errors.js";
export type { RequestOptions } from "./transport.js";
export type {
  DeliveryListParams,
  ProblemDetails,
  Webhook,
  WebhookCreateParams,
  WebhookDelivery,
  WebhookUpdateParams,
  WebhookWithSecret,
} from "./types.js";
export {
  DEFAULT_INFERRED_PATHS,
  type InferredPathOptions,
  type InferredPaths,
  Webhooks,
} from "./webhooks.js";
