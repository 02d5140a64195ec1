// One package for Nest apps: everything of `@kallima/webhooks`, plus the Nest module, decorators
// and guards.
export * from "@kallima/webhooks";
export {
  DEFAULT_WEBHOOK_PATH,
  KALLIMA_WEBHOOK_HANDLER,
  KALLIMA_WEBHOOKS_OPTIONS,
} from "./constants.js";
export { KallimaEvent, OnKallimaEvent } from "./decorators.js";
export { KallimaNestError, type KallimaNestErrorCode } from "./errors.js";
export { KALLIMA_FASTIFY_ROUTE_CONFIG } from "./fastify.js";
export { KallimaWebhookException, KallimaWebhookGuard, verifyKallimaWebhook } from "./guard.js";
export { nestWebhookLogger } from "./logging.js";
export {
  type KallimaWebhooksFactoryResult,
  KallimaWebhooksModule,
  type KallimaWebhooksModuleAsyncOptions,
  type KallimaWebhooksModuleOptions,
  type KallimaWebhooksModuleOptionsFor,
  type KallimaWebhooksModuleRouteOptions,
  kallimaWebhooks,
} from "./module.js";
export type { NestWebhookContext, NestWebhookRequest } from "./request.js";
