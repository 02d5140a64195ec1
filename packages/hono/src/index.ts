import {
  type EventHandlers,
  RawBodyUnavailableError,
  type UnknownEventTypes,
  type VerifiedKallimaEvent,
  type VerifyOnlyOptions,
  type WebhookHandler,
  type WebhookHandlerOptions,
  type WebhookRequest,
  type WebhookResult,
} from "@kallima/webhooks";
import {
  createVerifyOnlyHandler,
  readRequestBody,
  resolveWebhookHandler,
} from "@kallima/webhooks/adapter";
import type { Context, Env, MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

// One package to install and import: the core's whole surface, plus the Hono helpers below.
export * from "@kallima/webhooks";

/**
 * Options of {@link kallimaWebhooks}: the core's handler options, with Hono's context `c` as the
 * handlers' second argument and as the argument of a `secret` function.
 */
export type KallimaHonoOptions<E extends Env = Env> = WebhookHandlerOptions<Context<E>>;

/**
 * {@link KallimaHonoOptions} with `on` checked key by key, so that a misspelled event type is
 * reported in plain words (see `UnknownEventTypes`). `TOn` is inferred from `on`.
 */
export type KallimaHonoOptionsFor<E extends Env = Env, TOn = EventHandlers<Context<E>>> = Omit<
  KallimaHonoOptions<E>,
  "on"
> & {
  /** Handlers by event type. More can be added with `.on()`. */
  on?: TOn & EventHandlers<Context<E>> & UnknownEventTypes<TOn>;
};

/** Options of {@link verifyKallimaWebhook}: the core's verify-only options, with Hono's context. */
export type KallimaHonoVerifyOptions<E extends Env = Env> = VerifyOnlyOptions<Context<E>>;

/**
 * A handler made with `createWebhookHandler`: typed for Hono's context (its handlers then get
 * `c` as their second argument), or for none.
 */
export type HonoWebhookHandler<E extends Env = Env> = WebhookHandler<Context<E>> | WebhookHandler;

/** What {@link verifyKallimaWebhook} adds to the context: `c.var.kallimaEvent`. */
export interface KallimaWebhookVariables {
  /** The verified event. Narrow it with `isEventType(event, "job.completed")`. */
  kallimaEvent: VerifiedKallimaEvent;
}

/** The Hono environment {@link verifyKallimaWebhook} provides to the handlers after it. */
export type KallimaWebhookEnv<E extends Env = Env> = E & { Variables: KallimaWebhookVariables };

const CONSUMED_BODY_HINT =
  "An earlier middleware read the request body as text, JSON or form data, which decodes it, so its exact bytes are gone " +
  "and a re-encoded body would not match the signature. Mount the webhook route before that middleware, or let it read " +
  "c.req.arrayBuffer() (Hono then keeps the exact bytes for everyone).";

/** Hono types its body cache as values, but it holds the promises that `c.req.*()` returned. */
interface PromisedBodyCache {
  arrayBuffer?: Promise<ArrayBuffer>;
  blob?: Promise<Blob>;
  [read: string]: Promise<unknown> | undefined;
}

/**
 * The exact body bytes, at most `limit` of them (the core checks bytes already in hand). Hono's
 * cache holds what `c.req.*()` read: an `arrayBuffer` or `blob` there is the bytes as received,
 * `text`/`json`/`formData` a decoding of them. Bytes read here go into that cache, so that
 * `c.req.json()` still works after the middleware, in handlers and routes alike.
 */
async function readExactBody(c: Context, limit: number): Promise<ArrayBuffer | Uint8Array> {
  const cache = c.req.bodyCache as PromisedBodyCache;
  if (cache.arrayBuffer) return cache.arrayBuffer;
  if (cache.blob) return (await cache.blob).arrayBuffer();
  for (const _decoded in cache) throw new RawBodyUnavailableError(CONSUMED_BODY_HINT);
  const bytes = await readRequestBody(c.req.raw, limit);
  const { buffer, byteOffset, byteLength } = bytes;
  cache.arrayBuffer = Promise.resolve(
    byteOffset === 0 && byteLength === buffer.byteLength
      ? (buffer as ArrayBuffer)
      : (bytes.slice().buffer as ArrayBuffer),
  );
  return bytes;
}

/** The core's request for this context: `c` reaches the handlers and the secret function. */
function webhookRequest<E extends Env>(c: Context<E>): WebhookRequest<Context<E>> {
  return {
    method: c.req.method,
    headers: c.req.raw.headers,
    rawBody: (limit) => readExactBody(c as unknown as Context, limit),
    context: c,
  };
}

/** The core's answer, through `c` so that headers set by earlier middleware are kept. */
function respond(c: Context, result: WebhookResult): Response {
  return c.body(result.body, result.status as ContentfulStatusCode, result.headers);
}

/**
 * Terminal Hono middleware that receives Kallima webhooks: verifies the exact body bytes, drops
 * repeats, runs the handler for the event's type (with `c` as its second argument) and answers
 * with the status that makes Kallima retry exactly what failed. Any method but POST is answered
 * 405, so mount it with `app.all()`. Takes handler options or a handler made with
 * `createWebhookHandler`.
 *
 * @example
 * ```ts
 * app.all(
 *   "/kallima-events",
 *   kallimaWebhooks({
 *     secret: process.env.KALLIMA_WEBHOOK_SECRET!,
 *     on: { "job.completed": (event) => saveResult(event.data.id) },
 *   }),
 * );
 * ```
 */
export function kallimaWebhooks<E extends Env = Env, TOn = EventHandlers<Context<E>>>(
  options: KallimaHonoOptionsFor<E, TOn> | HonoWebhookHandler<E>,
): MiddlewareHandler<E> {
  // A handler typed for no context ignores the one it is given, so it serves as one for Hono's.
  const handler = resolveWebhookHandler(options as KallimaHonoOptions<E>);
  return async (c) => respond(c, await handler.handle(webhookRequest(c)));
}

/**
 * Verify-only Hono middleware: checks the delivery, sets the event as `c.var.kallimaEvent` and
 * calls `next()`, so that your own route handles it. A failed check (or another method than
 * POST: 405) is answered here and `next()` is not called. It does not deduplicate: your route
 * decides what a repeat means. The body stays readable after it (`c.req.json()`).
 *
 * @example
 * ```ts
 * app.all("/kallima-events", verifyKallimaWebhook({ secret }), (c) => {
 *   const event = c.var.kallimaEvent;
 *   if (isEventType(event, "job.failed")) console.error(getFailureReason(event.data).message);
 *   return c.json({ received: true });
 * });
 * ```
 */
export function verifyKallimaWebhook<E extends Env = Env>(
  options: KallimaHonoVerifyOptions<E> | HonoWebhookHandler<E>,
): MiddlewareHandler<KallimaWebhookEnv<E>> {
  const handler = createVerifyOnlyHandler(options as KallimaHonoVerifyOptions<E>, {
    adapterName: "verifyKallimaWebhook",
  });
  return async (c, next) => {
    // Hono types the context by its environment; this one only adds kallimaEvent to E's.
    const verified = await handler.verify(webhookRequest(c as unknown as Context<E>));
    if (!verified.ok) return respond(c, verified.result);
    c.set("kallimaEvent", verified.event);
    await next();
  };
}
