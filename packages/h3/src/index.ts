import type {
  EventHandlers,
  UnknownEventTypes,
  VerifiedKallimaEvent,
  VerifyOnlyOptions,
  WebhookHandler,
  WebhookHandlerOptions,
} from "@kallima/webhooks";
import { createVerifyOnlyHandler, resolveWebhookHandler } from "@kallima/webhooks/adapter";
import type { EventHandler, H3Event } from "h3";
import { refuse, respond, webhookRequest } from "./event.js";

// One package to install and import: the core's whole surface, plus the h3 helpers below.
export * from "@kallima/webhooks";

declare module "h3" {
  interface H3EventContext {
    /** The verified event, set by `verifyKallimaWebhook` for the handlers after it. */
    kallimaEvent?: VerifiedKallimaEvent;
  }
}

/**
 * Options of {@link kallimaWebhooks}: the core's handler options, with h3's `event` as the
 * handlers' second argument and as the argument of a `secret` function.
 */
export type KallimaH3Options = WebhookHandlerOptions<H3Event>;

/**
 * {@link KallimaH3Options} with `on` checked key by key, so that a misspelled event type is
 * reported in plain words (see `UnknownEventTypes`). `TOn` is inferred from `on`.
 */
export type KallimaH3OptionsFor<TOn = EventHandlers<H3Event>> = Omit<KallimaH3Options, "on"> & {
  /** Handlers by event type. More can be added with `.on()`. */
  on?: TOn & EventHandlers<H3Event> & UnknownEventTypes<TOn>;
};

/** Options of {@link verifyKallimaWebhook}: the core's verify-only options, with h3's `event`. */
export type KallimaH3VerifyOptions = VerifyOnlyOptions<H3Event>;

/** A handler made with `createWebhookHandler`: typed for h3's event, or for none. */
export type H3WebhookHandler = WebhookHandler<H3Event> | WebhookHandler;

/** The h3 event handler the helpers return: it answers with the body text, or nothing. */
export type KallimaH3EventHandler = EventHandler &
  ((event: H3Event) => Promise<string | undefined>);

/** Marks a function as an event handler the way h3 1.x's `defineEventHandler` does (h3 2 needs no mark). */
function eventHandler(
  handle: (event: H3Event) => Promise<string | undefined>,
): KallimaH3EventHandler {
  return Object.assign(handle, { __is_handler__: true as const }) as KallimaH3EventHandler;
}

/**
 * An h3 event handler that receives Kallima webhooks, for h3 1.x (Nuxt 3 and 4, Nitro 2) and h3 2
 * (Nitro 3): verifies the exact body bytes, drops repeats, runs the handler for the event's type
 * (with the `H3Event` as its second argument) and answers with the status that makes Kallima
 * retry exactly what failed. Any method but POST is answered 405, so register it for every method
 * (`app.all()`, or a Nitro/Nuxt route file without a method suffix). Takes handler options or a
 * handler made with `createWebhookHandler`.
 *
 * @example
 * ```ts
 * // server/routes/kallima-events.ts (Nuxt or Nitro)
 * export default kallimaWebhooks({
 *   secret: process.env.KALLIMA_WEBHOOK_SECRET!,
 *   on: { "job.completed": (event) => saveResult(event.data.id) },
 * });
 * ```
 */
export function kallimaWebhooks<TOn = EventHandlers<H3Event>>(
  options: KallimaH3OptionsFor<TOn> | H3WebhookHandler,
): KallimaH3EventHandler {
  // A handler typed for no context ignores the one it is given, so it serves as one for h3's.
  const handler = resolveWebhookHandler(options as KallimaH3Options);
  return eventHandler(async (event) => respond(event, await handler.handle(webhookRequest(event))));
}

/**
 * Verify-only h3 middleware: checks the delivery and sets the event as
 * `event.context.kallimaEvent`, then lets the next handler run (it returns nothing). A failed
 * check (or another method than POST: 405) is answered here and the next handler does not run.
 * It does not deduplicate: your handler decides what a repeat means. The body stays readable
 * after it (`readBody(event)`).
 *
 * @example
 * ```ts
 * app.use("/kallima-events", verifyKallimaWebhook({ secret }));
 * app.post("/kallima-events", (event) => {
 *   const kallimaEvent = event.context.kallimaEvent!;
 *   return { received: kallimaEvent.id };
 * });
 * ```
 */
export function verifyKallimaWebhook(
  options: KallimaH3VerifyOptions | H3WebhookHandler,
): KallimaH3EventHandler {
  const handler = createVerifyOnlyHandler(options as KallimaH3VerifyOptions, {
    adapterName: "verifyKallimaWebhook",
  });
  return eventHandler(async (event) => {
    const verified = await handler.verify(webhookRequest(event));
    if (!verified.ok) return refuse(event, verified.result);
    event.context.kallimaEvent = verified.event;
    return undefined;
  });
}
