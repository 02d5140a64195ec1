import {
  type EventHandlers,
  type UnknownEventTypes,
  type VerifiedKallimaEvent,
  WebhookConfigError,
  type WebhookHandler,
  type WebhookHandlerOptions,
  type WebhookResult,
} from "@kallima/webhooks";
import {
  createVerifyOnlyHandler,
  isWebhookHandler,
  resolveWebhookHandler,
  type VerifyOnlyOptions,
  type WebhookRequest,
} from "@kallima/webhooks/adapter";
import { nodeSignatureHeaders, prepareResultResponse } from "@kallima/webhooks/node";
import type { Context, Middleware } from "koa";
import { keptRawBody, readKoaBody } from "./body.js";

// One package for users: everything of the core, plus this adapter's own names below.
export * from "@kallima/webhooks";

/** What event handlers get as their second argument, and a `secret` function as its argument: Koa's `ctx`. */
export type KoaWebhookContext = Context;

/** Where and how {@link kallimaWebhooks} answers. */
export interface KallimaWebhooksMountOptions {
  /**
   * Answer only requests for this path (`ctx.path`), passing every other one to `next()`: for
   * `app.use()` without a router. Leave it out under `@koa/router`, which matches the path.
   */
  path?: string;
  /**
   * `"405"` (default): answer methods other than `POST` with `405 Method Not Allowed` and
   * `Allow: POST`. `"next"`: pass them to `next()`, so that another middleware or route on the
   * same path (a `GET` one, say) answers them.
   */
  otherMethods?: "405" | "next";
}

/** Options of {@link kallimaWebhooks}: the core's handler options, typed with Koa's `ctx`. */
export interface KallimaWebhooksOptions
  extends WebhookHandlerOptions<KoaWebhookContext>,
    KallimaWebhooksMountOptions {}

/**
 * {@link KallimaWebhooksOptions} with `on` checked key by key, so that a misspelled event type
 * is reported in plain words (see `UnknownEventTypes`). `TOn` is inferred from `on`.
 */
export type KallimaWebhooksOptionsFor<TOn = EventHandlers<KoaWebhookContext>> = Omit<
  KallimaWebhooksOptions,
  "on"
> & {
  /** Handlers by event type. More can be added with `.on()`. */
  on?: TOn & EventHandlers<KoaWebhookContext> & UnknownEventTypes<TOn>;
};

/**
 * A handler made with `createWebhookHandler`: typed with Koa's context
 * (`createWebhookHandler<KoaWebhookContext>(…)`), or with none.
 */
export type KoaWebhookHandler = WebhookHandler<KoaWebhookContext> | WebhookHandler;

/** Options of {@link verifyKallimaWebhook}: the core's verify-only options, with Koa's `ctx`. */
export type KallimaKoaVerifyOptions = VerifyOnlyOptions<KoaWebhookContext>;

/** What {@link verifyKallimaWebhook} adds to `ctx.state`. */
export interface KallimaWebhookState {
  /** The verified event. Narrow it with `isEventType(event, "job.completed")`. */
  kallimaEvent: VerifiedKallimaEvent;
}

function toWebhookRequest(ctx: Context): WebhookRequest<KoaWebhookContext> {
  return {
    method: ctx.method,
    // From rawHeaders: Node joins a repeated header into "a, b", which must be refused instead.
    headers: nodeSignatureHeaders(ctx.req),
    rawBody: (limit) => readKoaBody(ctx, limit),
    context: ctx,
  };
}

/** The core's answer, through `ctx`, so that Koa and the middleware around this one see it. */
function respond(ctx: Context, result: WebhookResult): void {
  if (!prepareResultResponse(ctx.res)) {
    // The answer cannot be sent (the headers went out: the connection was cut): Koa must not try.
    ctx.respond = false;
    return;
  }
  ctx.status = result.status;
  ctx.set(result.headers);
  ctx.body = result.body;
}

function mountOptions(
  input: unknown,
  mount: KallimaWebhooksMountOptions,
): { core: unknown; path: string | undefined; otherMethods: "405" | "next" } {
  let core = input;
  let { path, otherMethods } = mount;
  if (!isWebhookHandler(input) && typeof input === "object" && input !== null) {
    // The core gets its own options only; the mount options are this adapter's.
    const {
      path: inlinePath,
      otherMethods: inlineMethods,
      ...options
    } = input as KallimaWebhooksOptions;
    core = options;
    path ??= inlinePath;
    otherMethods ??= inlineMethods;
  }
  otherMethods ??= "405";
  if (otherMethods !== "405" && otherMethods !== "next") {
    throw new WebhookConfigError(
      "invalid_option",
      `otherMethods must be "405" or "next", got ${JSON.stringify(otherMethods)}.`,
    );
  }
  if (path !== undefined && (typeof path !== "string" || !path.startsWith("/"))) {
    throw new WebhookConfigError(
      "invalid_option",
      `path must be a path such as "/kallima-events", got ${JSON.stringify(path)}.`,
    );
  }
  return { core, path, otherMethods };
}

/**
 * Koa middleware that receives Kallima webhooks: it reads the exact body bytes, verifies the
 * signature and freshness, drops repeats, runs the handler for the event's type with `ctx` as its
 * second argument, and answers with the status Kallima's retries rely on. It is the end of the
 * line for its requests (it does not call `next()` for them). Mount it on a `@koa/router` route
 * (`router.all(path, …)`, so that other methods get `405`), or with `app.use()` and a `path`.
 * Takes the core's options or a handler made with `createWebhookHandler`; errors that are not this
 * library's own (a custom handler object's) are thrown to Koa's error handling.
 *
 * @example
 * ```ts
 * router.all("/kallima-events", kallimaWebhooks({
 *   secret: process.env.KALLIMA_WEBHOOK_SECRET!,
 *   on: { "job.completed": async (event, ctx) => saveJob(event.data.id, ctx.ip) },
 * }));
 * ```
 */
export function kallimaWebhooks<TOn = EventHandlers<KoaWebhookContext>>(
  input: KallimaWebhooksOptionsFor<TOn> | KoaWebhookHandler,
  mount: KallimaWebhooksMountOptions = {},
): Middleware {
  const { core, path, otherMethods } = mountOptions(input, mount);
  const handler = resolveWebhookHandler(core as WebhookHandlerOptions<KoaWebhookContext>);
  return async (ctx, next) => {
    if (
      (path !== undefined && ctx.path !== path) ||
      (otherMethods === "next" && ctx.method !== "POST")
    ) {
      await next();
      return;
    }
    // handle() turns every failure of its own into a result: a rejection is a custom handler's.
    respond(ctx, await handler.handle(toWebhookRequest(ctx)));
  };
}

/**
 * Verify-only Koa middleware: on an authentic, fresh delivery it sets `ctx.state.kallimaEvent`
 * and calls `next()`, so that your own route handles the event; otherwise it answers the error
 * itself and `next()` is not called. It neither deduplicates nor runs handlers (passing `on`,
 * `onUnhandled`, `idempotency` or `deadlineMs` throws): your route must tolerate a repeated
 * `ctx.state.kallimaEvent.id`. Other methods than `POST` are answered `405`. When it read the body
 * itself, `ctx.request.body` is the delivery's JSON afterwards, as a body parser would leave it.
 *
 * @example
 * ```ts
 * router.post("/kallima-events", verifyKallimaWebhook({ secret }), (ctx) => {
 *   const event = ctx.state.kallimaEvent;
 *   if (isEventType(event, "job.failed")) console.error(getFailureReason(event.data).message);
 *   ctx.body = { received: true };
 * });
 * ```
 */
export function verifyKallimaWebhook(
  options: KallimaKoaVerifyOptions | KoaWebhookHandler,
): Middleware<KallimaWebhookState> {
  const handler = createVerifyOnlyHandler<KoaWebhookContext>(
    options as KallimaKoaVerifyOptions | WebhookHandler<KoaWebhookContext>,
    { adapterName: "verifyKallimaWebhook" },
  );
  return async (ctx, next) => {
    const koa = ctx as unknown as Context;
    let read = false;
    const request = toWebhookRequest(koa);
    const outcome = await handler.verify({
      ...request,
      rawBody: (limit) => {
        read = keptRawBody(koa) === undefined;
        return readKoaBody(koa, limit);
      },
    });
    if (!outcome.ok) {
      respond(koa, outcome.result);
      return;
    }
    ctx.state.kallimaEvent = outcome.event;
    // The stream is read: leave the JSON where body parsers put theirs, so that the route (and a
    // body parser after this middleware, which then skips) finds it as usual.
    const parsed = koa.request as { body?: unknown };
    if (read && parsed.body === undefined) parsed.body = outcome.event;
    await next();
  };
}
