import type {
  EventHandlers,
  UnknownEventTypes,
  WebhookHandler,
  WebhookHandlerOptions,
} from "@kallima/webhooks";
import {
  createVerifyOnlyHandler,
  resolveWebhookHandler,
  type VerifyOnlyOptions,
} from "@kallima/webhooks/adapter";

// Internal to both entries (no Node code here: the App Router entry runs on the Edge runtime).

/**
 * Handler options typed for the route's context, or a handler made with `createWebhookHandler`:
 * typed for that context, or the default one (context `unknown`), which any context suits.
 */
export type HandlerInput<TOptions, TContext> = TOptions | WebhookHandler<TContext> | WebhookHandler;

/**
 * The core's handler options with `on` checked key by key, so that a misspelled event type is
 * reported in plain words (see `UnknownEventTypes`). `TOn` is inferred from `on`.
 */
export type CheckedHandlerOptions<TContext, TOn = EventHandlers<TContext>> = Omit<
  WebhookHandlerOptions<TContext>,
  "on"
> & {
  /** Handlers by event type. More can be added with `.on()`. */
  on?: TOn & EventHandlers<TContext> & UnknownEventTypes<TOn>;
};

/**
 * Next.js evaluates route modules while building, often without the secret (it arrives at run
 * time): a bad secret is then answered per request (500 invalid_secret, logged), not thrown.
 */
const SETTINGS = { deferConfigErrors: true } as const;

/** The terminal helpers' handler. */
export function handlerFor<TContext>(
  options: HandlerInput<WebhookHandlerOptions<TContext>, TContext>,
): WebhookHandler<TContext> {
  return resolveWebhookHandler(options as WebhookHandler<TContext>, SETTINGS);
}

// One verify-only handler per options object, so that a module-level options constant is
// validated, and its keys imported, once rather than on every delivery.
const verifiers = new WeakMap<object, unknown>();

/** The verify-only handler for these options (the core's one rule: `on` and the like are refused). */
export function verifyOnlyHandlerFor<TContext>(
  options: HandlerInput<VerifyOnlyOptions<TContext>, TContext>,
): WebhookHandler<TContext> {
  let handler = verifiers.get(options) as WebhookHandler<TContext> | undefined;
  if (!handler) {
    handler = createVerifyOnlyHandler(options as WebhookHandler<TContext>, {
      ...SETTINGS,
      adapterName: "verifyKallimaWebhook",
    });
    verifiers.set(options, handler);
  }
  return handler;
}
