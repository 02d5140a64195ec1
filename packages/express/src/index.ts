import {
  type EventHandlers,
  type UnknownEventTypes,
  type VerifiedKallimaEvent,
  WebhookConfigError,
  type WebhookHandler,
  type WebhookHandlerOptions,
} from "@kallima/webhooks";
import {
  createVerifyOnlyHandler,
  isWebhookHandler,
  resolveWebhookHandler,
  type VerifyOnlyOptions,
  type WebhookRequest,
} from "@kallima/webhooks/adapter";
import {
  keepRawBody as keepBytes,
  nodeSignatureHeaders,
  readRawBody,
  writeResult,
} from "@kallima/webhooks/node";
import type { NextFunction, Request, RequestHandler, Response } from "express";

// One package for users: everything of the core, plus this adapter's own names below.
export * from "@kallima/webhooks";

declare global {
  // Express types its request through this global namespace (both @types/express 4 and 5),
  // so augmenting it types `req.kallimaEvent` in every handler of the app.
  namespace Express {
    interface Request {
      /** The verified Kallima event, set by `verifyKallimaWebhook()` before your route runs. */
      kallimaEvent?: VerifiedKallimaEvent;
    }
  }
}

/** What event handlers get as their second argument, and a `secret` function as its argument. */
export interface ExpressWebhookContext {
  req: Request;
  res: Response;
}

/** How {@link kallimaWebhooks} treats requests that are not `POST`. */
export interface KallimaWebhooksMountOptions {
  /**
   * `"405"` (default): answer them `405 Method Not Allowed` with `Allow: POST`. `"next"`: call
   * `next()`, so that another route on the same path (a `GET` one, say) answers them.
   */
  otherMethods?: "405" | "next";
}

/** Options of {@link kallimaWebhooks}: the core's handler options, typed with the Express context. */
export interface KallimaWebhooksOptions
  extends WebhookHandlerOptions<ExpressWebhookContext>,
    KallimaWebhooksMountOptions {}

/**
 * {@link KallimaWebhooksOptions} with `on` checked key by key, so that a misspelled event type
 * is reported in plain words (see `UnknownEventTypes`). `TOn` is inferred from `on`.
 */
export type KallimaWebhooksOptionsFor<TOn = EventHandlers<ExpressWebhookContext>> = Omit<
  KallimaWebhooksOptions,
  "on"
> & {
  /** Handlers by event type. More can be added with `.on()`. */
  on?: TOn & EventHandlers<ExpressWebhookContext> & UnknownEventTypes<TOn>;
};

/**
 * A handler made with `createWebhookHandler`: typed with the Express context
 * (`createWebhookHandler<ExpressWebhookContext>(…)`), or with none.
 */
export type ExpressWebhookHandler = WebhookHandler<ExpressWebhookContext> | WebhookHandler;

/**
 * A body-parser `verify` callback that keeps the exact request bytes as `req.rawBody`, so that
 * the webhook route still verifies when a global `express.json()` (or `express.text()`,
 * `express.urlencoded()`) runs before it.
 *
 * @example
 * ```ts
 * app.use(express.json({ verify }));
 * ```
 */
export const verify: typeof keepBytes = keepBytes;
/** @deprecated The same function as {@link verify}, under its old name: use `verify`. */
export const keepRawBody: typeof verify = verify;

// Names the Express fix, since the core's generic hint cannot know which parser ran.
const CONSUMED_BODY_HINT =
  "Mount the webhook route before `app.use(express.json())` (and any other body parser), " +
  'or keep the bytes: `app.use(express.json({ verify }))` with `verify` from "@kallima/webhooks-express" ' +
  "(pass the same `{ verify }` to express.text(), express.urlencoded() or body-parser).";

function toWebhookRequest(req: Request, res: Response): WebhookRequest<ExpressWebhookContext> {
  return {
    method: req.method,
    // From rawHeaders: Node joins a repeated header into "a, b", which must be refused instead.
    headers: nodeSignatureHeaders(req),
    rawBody: (maxBodyBytes) =>
      readRawBody(req, { maxBodyBytes, consumedBodyHint: CONSUMED_BODY_HINT }),
    context: { req, res },
  };
}

/**
 * Terminal Express middleware that receives Kallima webhooks: it reads the raw body, verifies
 * the signature and freshness, drops repeats, runs the handler for the event's type with
 * `{ req, res }` as its second argument, and answers with the status Kallima's retries rely on.
 * Mount it with `app.all(path, …)` so that other methods get `405`, or pass
 * `otherMethods: "next"` (in the options, or as a second argument after a handler) to leave
 * them to your other routes. Takes the core's options or a handler made with
 * `createWebhookHandler`. Errors that are not this library's own (a custom handler object's)
 * go to `next(err)`.
 *
 * @example
 * ```ts
 * app.all("/kallima-events", kallimaWebhooks({
 *   secret: process.env.KALLIMA_WEBHOOK_SECRET!,
 *   on: { "job.completed": async (event, { req }) => saveJob(event.data.id, req.ip) },
 * }));
 * ```
 */
export function kallimaWebhooks<TOn = EventHandlers<ExpressWebhookContext>>(
  input: KallimaWebhooksOptionsFor<TOn> | ExpressWebhookHandler,
  mount: KallimaWebhooksMountOptions = {},
): RequestHandler {
  let core: unknown = input;
  let otherMethods: unknown = mount.otherMethods;
  if (!isWebhookHandler(input) && typeof input === "object" && input !== null) {
    // The core gets its own options only; the mount option is this adapter's.
    const { otherMethods: inline, ...options } = input;
    core = options;
    otherMethods ??= inline;
  }
  const handler = resolveWebhookHandler(core as WebhookHandlerOptions<ExpressWebhookContext>);
  otherMethods ??= "405";
  if (otherMethods !== "405" && otherMethods !== "next") {
    throw new WebhookConfigError(
      "invalid_option",
      `otherMethods must be "405" or "next", got ${JSON.stringify(otherMethods)}.`,
    );
  }
  return (req: Request, res: Response, next: NextFunction): void => {
    if (otherMethods === "next" && req.method !== "POST") {
      next();
      return;
    }
    // Not returned (Express 4 ignores a middleware's promise): both outcomes are handled here.
    // handle() turns every failure of its own into a result, so a rejection is a bug or a
    // custom handler's error, which Express's error handling gets.
    handler.handle(toWebhookRequest(req, res)).then((result) => writeResult(res, result), next);
  };
}

/**
 * Verify-only Express middleware: on an authentic, fresh delivery it sets `req.kallimaEvent`
 * and calls `next()`, so that your own route handles the event; otherwise it answers the error
 * itself and your route does not run. It neither deduplicates nor runs handlers (passing `on`,
 * `onUnhandled`, `idempotency` or `deadlineMs` throws): your route must tolerate a repeated
 * `req.kallimaEvent.id`.
 *
 * @example
 * ```ts
 * app.post("/kallima-events", verifyKallimaWebhook({ secret }), (req, res) => {
 *   const event = req.kallimaEvent!;
 *   if (isEventType(event, "job.failed")) console.error(getFailureReason(event.data).message);
 *   res.json({ received: true });
 * });
 * ```
 */
export function verifyKallimaWebhook(
  options: VerifyOnlyOptions<ExpressWebhookContext> | ExpressWebhookHandler,
): RequestHandler {
  const handler = createVerifyOnlyHandler<ExpressWebhookContext>(
    options as VerifyOnlyOptions<ExpressWebhookContext> | WebhookHandler<ExpressWebhookContext>,
    { adapterName: "verifyKallimaWebhook" },
  );
  return (req: Request, res: Response, next: NextFunction): void => {
    // As in kallimaWebhooks: not returned, and both outcomes handled here. next() does not
    // throw for an error of a later route: Express catches that itself and routes it.
    handler.verify(toWebhookRequest(req, res)).then((outcome) => {
      if (!outcome.ok) {
        writeResult(res, outcome.result);
        return;
      }
      req.kallimaEvent = outcome.event;
      next();
    }, next);
  };
}
