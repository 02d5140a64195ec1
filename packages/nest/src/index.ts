export type {
  IdempotencyOptions,
  KallimaEventType,
  VerifiedKallimaEvent,
  WebhookHandler,
  WebhookHandlerOptions,
  WebhookResult,
} from "@kallima/webhooks";
export { createWebhookHandler, getFailureReason, isEventType } from "@kallima/webhooks";
export {
  DEFAULT_WEBHOOK_PATH,
  KALLIMA_WEBHOOK_HANDLER,
  KALLIMA_WEBHOOKS_OPTIONS,
} from "./constants.js";
export { KallimaEvent, OnKallimaEvent } from "./decorators.js";
export { KallimaNestError, type KallimaNestErrorCode } from "./errors.js";
export { KallimaWebhookException, KallimaWebhookGuard } from "./guard.js";
export {
  KallimaWebhooksModule,
  type KallimaWebhooksModuleAsyncOptions,
  type KallimaWebhooksModuleOptions,
  type KallimaWebhooksModuleRouteOptions,
} from "./module.js";
export type { NestWebhookRequest } from "./request.js";
