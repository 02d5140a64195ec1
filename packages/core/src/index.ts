// What applications use. Adapter plumbing (result builders, body readers, header readers,
// resolveWebhookHandler) is in "@kallima/webhooks/adapter".
export { DEFAULT_MAX_BODY_BYTES } from "./body.js";
export { DEFAULT_DEADLINE_MS } from "./delivery.js";
export type { EventHandler, EventHandlers, UnknownEventTypes } from "./dispatch.js";
export {
  type AnswerOnlyCode,
  type ConfigErrorCode,
  HandlerFailedError,
  HandlerTimeoutError,
  IdempotencyStoreError,
  KallimaWebhookError,
  PayloadTooLargeError,
  QueueUnavailableError,
  RawBodyUnavailableError,
  RequestAbortedError,
  VERIFICATION_ERROR_CODES,
  type VerificationErrorCode,
  type WebhookAnswerCode,
  WebhookConfigError,
  type WebhookErrorCode,
  WebhookSignatureError,
} from "./errors.js";
export {
  type FailureReason,
  getFailureReason,
  type HumanizationResults,
  isEventType,
  type JobCompletedData,
  type JobFailedData,
  type KallimaEvent,
  type KallimaEventEnvelope,
  type KallimaEventMap,
  type KallimaEventType,
  type KallimaJob,
  type KallimaJobStatus,
  type KallimaJobType,
  type KallimaProblem,
  type KallimaProductResource,
  type ProductCompletedData,
  type ProductEvents,
  type ProductFailedData,
  type StructurePredictionResults,
  type UnknownKallimaEvent,
  type VerifiedKallimaEvent,
  type WebhookTestData,
} from "./events.js";
export {
  createWebhookHandler,
  type IdempotencyOptions,
  type RawBodyReader,
  type VerifyRequestOutcome,
  type WebhookErrorContext,
  type WebhookHandler,
  type WebhookHandlerOptions,
  type WebhookRequest,
} from "./handler.js";
export {
  type HeadersInput,
  type HeaderValue,
  KALLIMA_SIGNATURE_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
} from "./headers.js";
export {
  type ClaimResult,
  DEFAULT_DONE_TTL_SECONDS,
  DEFAULT_LEASE_SECONDS,
  type IdempotencyLease,
  type IdempotencyStore,
  type MemoryIdempotencyStore,
  type MemoryStoreOptions,
  memoryStore,
} from "./idempotency.js";
export type { WebhookLogDetails, WebhookLogger } from "./logging.js";
export type {
  DeliveryCode,
  DeliveryMode,
  DeliveryObservation,
  DeliveryRecord,
  DeliveryRecordOutcome,
  DeliveryStart,
  DeliveryStep,
  WebhookInstrumentation,
} from "./observe.js";
export type { BackoffOptions } from "./queue/backoff.js";
export type {
  DeadLetter,
  DeadLetterFilter,
  EnqueueOutcome,
  QueuedDelivery,
  QueueJobState,
  QueueStats,
  WebhookQueue,
} from "./queue/driver.js";
export {
  createKallimaWorker,
  type KallimaWorker,
  type KallimaWorkerOptions,
  type WorkerFailureContext,
  type WorkerJobContext,
} from "./queue/worker.js";
export {
  RETRY_AFTER_IN_PROGRESS_SECONDS,
  RETRY_AFTER_QUEUE_SECONDS,
  RETRY_AFTER_STORE_SECONDS,
  RETRY_AFTER_TIMEOUT_SECONDS,
  statusForCode,
  type WebhookOutcome,
  type WebhookResult,
} from "./result.js";
export type { SecretOption, SecretValue } from "./secrets.js";
export {
  MAX_SIGNATURES_PER_HEADER,
  type SignatureFormat,
} from "./signature-headers.js";
export {
  DEFAULT_TOLERANCE_SECONDS,
  type RawBody,
  type VerifiedDelivery,
  type VerifyHeaderValues,
  type VerifyInput,
  type VerifyRequestHeaders,
  WebhookVerifier,
  type WebhookVerifierOptions,
} from "./verify.js";
export type { VerifyOnlyOptions } from "./verify-only.js";
