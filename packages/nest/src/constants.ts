/** Metadata key under which `@OnKallimaEvent()` records the event types of a method. */
export const ON_KALLIMA_EVENT_METADATA = "kallima:on-event";

/**
 * Injection token of the module's `WebhookHandler` (from `@kallima/webhooks`), for code that wants
 * to call `handle()` or `verify()` itself.
 *
 * @example
 * ```ts
 * constructor(@Inject(KALLIMA_WEBHOOK_HANDLER) private readonly webhooks: WebhookHandler) {}
 * ```
 */
export const KALLIMA_WEBHOOK_HANDLER = "KALLIMA_WEBHOOK_HANDLER";

/** Injection token of the options the module was configured with. */
export const KALLIMA_WEBHOOKS_OPTIONS = "KALLIMA_WEBHOOKS_OPTIONS";

/** Route of the module's webhook controller when `path` is not given. */
export const DEFAULT_WEBHOOK_PATH = "kallima-events";

/** Property of the request on which `KallimaWebhookGuard` leaves the verified event. */
export const KALLIMA_EVENT_PROPERTY = "kallimaEvent";
