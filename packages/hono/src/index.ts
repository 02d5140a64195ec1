import {
  createWebhookHandler,
  errorResult,
  isWebhookHandler,
  KallimaWebhookError,
  RawBodyUnavailableError,
  readRequestBody,
  type VerifiedKallimaEvent,
  type WebhookHandler,
  type WebhookHandlerOptions,
  type WebhookRequest,
  type WebhookResult,
} from "@kallima/webhooks";
import type { Context, Env, MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** One signing secret, or several during a rotation. */
export type SecretValue = string | readonly string[];

/**
 * The secret, or a function of the request context that returns it: on Cloudflare Workers the
 * secret is a binding, `c.env.KALLIMA_WEBHOOK_SECRET`, only reachable from a request.
 */
export type SecretOption<E extends Env = Env> =
  | SecretValue
  | ((c: Context<E>) => SecretValue | Promise<SecretValue>);

/**
 * Options of {@link kallimaWebhooks} and {@link verifyKallimaWebhook}: the core's handler options,
 * with a secret that may come from the request context.
 *
 * @example
 * ```ts
 * kallimaWebhooks<{ Bindings: { KALLIMA_WEBHOOK_SECRET: string } }>({
 *   secret: (c) => c.env.KALLIMA_WEBHOOK_SECRET,
 *   on: { "job.completed": (event) => console.log(event.data.id) },
 * });
 * ```
 */
export interface KallimaHonoOptions<E extends Env = Env>
  extends Omit<WebhookHandlerOptions<Context<E>>, "secret"> {
  /**
   * The endpoint's signing secret (`whsec_…`), a list of them during a rotation, or a function
   * of the context returning either. With a function, one handler is made per distinct secret
   * and reused, so idempotency and key import are not per request.
   */
  secret: SecretOption<E>;
}

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

/** Distinct secrets kept at once; more than a rotation ever needs. */
const MAX_CACHED_SECRETS = 8;

const CONSUMED_BODY_HINT =
  "An earlier middleware read the request body as text, JSON or form data, which decodes it, so its exact bytes are gone " +
  "and a re-encoded body would not match the signature. Mount the webhook route before that middleware, or let it read " +
  "c.req.arrayBuffer() (Hono then keeps the exact bytes for everyone).";

type HandlerSource<E extends Env> = (c: Context<E>) => Promise<WebhookHandler<Context<E>>>;

function secretKey(secret: SecretValue): string {
  // Prefixed so that a string can never collide with the key of a list.
  return typeof secret === "string" ? `s:${secret}` : `l:${JSON.stringify(secret)}`;
}

function isHonoWebhookHandler<E extends Env>(
  input: KallimaHonoOptions<E> | HonoWebhookHandler<E>,
): input is HonoWebhookHandler<E> {
  return isWebhookHandler(input);
}

function handlerSource<E extends Env>(
  input: KallimaHonoOptions<E> | HonoWebhookHandler<E>,
): HandlerSource<E> {
  if (isHonoWebhookHandler(input)) {
    // A handler typed for no context ignores the one it is given, so it serves as one for Hono's.
    const handler = input as WebhookHandler<Context<E>>;
    return async () => handler;
  }
  const { secret } = input;
  if (typeof secret !== "function") {
    // Built now, so that a misconfiguration fails at start-up, not on the first delivery.
    const handler = createWebhookHandler({ ...input, secret });
    return async () => handler;
  }
  const cache = new Map<string, WebhookHandler<Context<E>>>();
  return async (c) => {
    const value = await secret(c);
    const key = secretKey(value);
    // No await between the lookup and the insert: concurrent first deliveries share one handler.
    let handler = cache.get(key);
    if (!handler) {
      handler = createWebhookHandler({ ...input, secret: value });
      if (cache.size >= MAX_CACHED_SECRETS) cache.delete(cache.keys().next().value!);
      cache.set(key, handler);
    }
    return handler;
  };
}

interface PromisedBodyCache {
  arrayBuffer?: Promise<ArrayBuffer>;
  blob?: Promise<Blob>;
  [read: string]: Promise<unknown> | undefined;
}

function exactBuffer(bytes: Uint8Array): ArrayBuffer {
  const { buffer, byteOffset, byteLength } = bytes;
  if (buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength) {
    return buffer;
  }
  return bytes.slice().buffer as ArrayBuffer;
}

/**
 * The exact body bytes. Hono caches what `c.req.*()` read; an `arrayBuffer` or `blob` there holds
 * the bytes as received, while `text`/`json`/`formData` hold a decoding of them. Bytes read here
 * are put in that cache, so `c.req.json()` still works after verify-only middleware.
 */
async function readExactBody(c: Context, maxBodyBytes: number): Promise<Uint8Array | ArrayBuffer> {
  // Hono types the cache as values, but it holds the promises that c.req.*() returned.
  const cache = c.req.bodyCache as PromisedBodyCache;
  if (cache.arrayBuffer) return cache.arrayBuffer;
  if (cache.blob) return (await cache.blob).arrayBuffer();
  if (Object.keys(cache).length > 0) throw new RawBodyUnavailableError(CONSUMED_BODY_HINT);
  const bytes = await readRequestBody(c.req.raw, maxBodyBytes);
  cache.arrayBuffer = Promise.resolve(exactBuffer(bytes));
  return bytes;
}

function webhookRequest<E extends Env>(
  c: Context<E>,
  handler: WebhookHandler<Context<E>>,
): WebhookRequest<Context<E>> {
  // The context reaches handlers as their second argument: on Workers, `c.env` holds the bindings.
  return {
    headers: c.req.raw.headers,
    rawBody: readExactBody(c as unknown as Context, handler.maxBodyBytes),
    context: c,
  };
}

function respond(c: Context, result: WebhookResult): Response {
  return c.body(result.body, result.status as ContentfulStatusCode, result.headers);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as PromiseLike<unknown>).then === "function"
  );
}

/** Resolves the handler; a secret function returning a bad secret becomes a coded 500. */
async function resolveHandler<E extends Env>(
  c: Context<E>,
  source: HandlerSource<E>,
  input: KallimaHonoOptions<E> | HonoWebhookHandler<E>,
): Promise<WebhookHandler<Context<E>> | WebhookResult> {
  try {
    return await source(c);
  } catch (error) {
    if (!(error instanceof KallimaWebhookError)) throw error;
    const result = errorResult(error);
    try {
      const logged = isWebhookHandler(input)
        ? undefined
        : input.onError?.(error, { status: result.status });
      // onError may be async, as in the core: a logger whose sink is down must not become an
      // unhandled rejection, which would take a Node process down.
      if (isThenable(logged)) logged.then(undefined, () => {});
    } catch {
      // A logging callback must not change what the sender is told.
    }
    return result;
  }
}

/**
 * Terminal Hono middleware that receives Kallima webhooks: verifies the exact body bytes,
 * drops repeats, runs the handler for the event's type and answers with the status that makes
 * Kallima retry exactly what failed. Takes handler options or a handler made with
 * `createWebhookHandler`.
 *
 * @example
 * ```ts
 * app.post(
 *   "/kallima-events",
 *   kallimaWebhooks({
 *     secret: process.env.KALLIMA_WEBHOOK_SECRET!,
 *     on: { "job.completed": (event) => saveResult(event.data.id) },
 *   }),
 * );
 * ```
 */
export function kallimaWebhooks<E extends Env = Env>(
  options: KallimaHonoOptions<E> | HonoWebhookHandler<E>,
): MiddlewareHandler<E> {
  const source = handlerSource(options);
  return async (c) => {
    const handler = await resolveHandler(c, source, options);
    if (!isWebhookHandler(handler)) return respond(c, handler);
    return respond(c, await handler.handle(webhookRequest(c, handler)));
  };
}

/**
 * Verify-only Hono middleware: checks the delivery, sets the event as `c.var.kallimaEvent` and
 * calls `next()`, so that your own route handles it. A failed check is answered here (401, 400,
 * 413…) and `next()` is not called. It does not deduplicate: your route decides what a repeat means.
 * The body stays readable after it (`c.req.json()`).
 *
 * @example
 * ```ts
 * app.post("/kallima-events", verifyKallimaWebhook({ secret }), (c) => {
 *   const event = c.var.kallimaEvent;
 *   if (isEventType(event, "job.failed")) console.error(getFailureReason(event.data).message);
 *   return c.json({ received: true });
 * });
 * ```
 */
export function verifyKallimaWebhook<E extends Env = Env>(
  options: KallimaHonoOptions<E> | HonoWebhookHandler<E>,
): MiddlewareHandler<KallimaWebhookEnv<E>> {
  const source = handlerSource(options);
  return async (c, next) => {
    // Hono types the context by its environment; this one only adds kallimaEvent to E's.
    const context = c as unknown as Context<E>;
    const handler = await resolveHandler(context, source, options);
    if (!isWebhookHandler(handler)) return respond(c, handler);
    const verified = await handler.verify(webhookRequest(context, handler));
    if (!verified.ok) return respond(c, verified.result);
    c.set("kallimaEvent", verified.event);
    await next();
  };
}

export type { KallimaEvent, VerifiedKallimaEvent, WebhookHandler } from "@kallima/webhooks";
export { getFailureReason, isEventType } from "@kallima/webhooks";
