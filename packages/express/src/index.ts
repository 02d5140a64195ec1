import {
  isWebhookHandler,
  resolveWebhookHandler,
  type VerifiedKallimaEvent,
  WebhookConfigError,
  type WebhookHandler,
  type WebhookHandlerOptions,
  type WebhookRequest,
  type WebhookResult,
} from "@kallima/webhooks";
import {
  keepRawBody,
  type NodeWebhookRequest,
  nodeSignatureHeaders,
  readRawBody,
  writeResult,
} from "@kallima/webhooks/node";
import type { NextFunction, Request, RequestHandler, Response } from "express";

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

/**
 * A body-parser `verify` callback that keeps the exact request bytes as `req.rawBody`, so that
 * the webhook route still verifies when a global `express.json()` (or `express.text()`,
 * `express.urlencoded()`) runs before it. Same function as {@link keepRawBody}.
 *
 * @example
 * ```ts
 * import { verify } from "@kallima/webhooks-express";
 * app.use(express.json({ verify }));
 * ```
 */
export const verify: typeof keepRawBody = keepRawBody;
export {
  getFailureReason,
  isEventType,
  type KallimaEvent,
  type VerifiedKallimaEvent,
} from "@kallima/webhooks";
export { keepRawBody };

/** Options of {@link verifyKallimaWebhook}: the core options, without the ones that run handlers. */
export type VerifyKallimaWebhookOptions = Omit<
  WebhookHandlerOptions,
  "on" | "onUnhandled" | "idempotency"
>;

// Names the Express fix, since the core's generic hint cannot know which parser ran.
const CONSUMED_BODY_HINT =
  "Mount the webhook route before `app.use(express.json())` (and any other body parser), " +
  'or keep the bytes: `app.use(express.json({ verify }))` with `verify` from "@kallima/webhooks-express" ' +
  "(pass the same `{ verify }` to express.text(), express.urlencoded() or body-parser).";

function toWebhookRequest(req: Request, handler: WebhookHandler): WebhookRequest {
  return {
    // From rawHeaders, not req.headers: Node joins a repeated custom header into "a, b", which
    // would read as a list of two signatures instead of a repeat to refuse.
    headers: nodeSignatureHeaders(req),
    rawBody: readRawBody(req as NodeWebhookRequest, {
      maxBodyBytes: handler.maxBodyBytes,
      consumedBodyHint: CONSUMED_BODY_HINT,
    }),
  };
}

/**
 * Writes the core's answer. When something else already started the response, its status can
 * no longer be set: the connection is cut instead, which Kallima counts as a failed delivery and
 * retries, rather than a request left hanging or read as a status someone else chose.
 */
function answer(res: Response, result: WebhookResult): void {
  if (res.headersSent && !res.writableEnded) {
    res.destroy();
    return;
  }
  writeResult(res, result);
}

/**
 * Terminal Express middleware that receives Kallima webhooks: it reads the raw body, verifies
 * the signature and freshness, drops repeats, runs the handler for the event's type and answers
 * with the status Kallima's retries rely on (2xx handled or duplicate, 4xx rejected, 5xx retry).
 *
 * Takes the core handler options, or a handler made with `createWebhookHandler`. Requests that
 * are not `POST` go on to the next route, so a `GET` route may share the path. An upload cut
 * short (the client went, or a server timeout cut it) is answered `400 request_aborted` and told
 * to `onError`; a repeated signature header is refused. Errors that are not this library's own
 * (a custom handler's) go to `next(err)`.
 *
 * @example
 * ```ts
 * app.post("/kallima-events", kallimaWebhooks({
 *   secret: process.env.KALLIMA_WEBHOOK_SECRET!,
 *   on: { "job.completed": async (event) => saveJob(event.data.id) },
 * }));
 * ```
 */
export function kallimaWebhooks(options: WebhookHandlerOptions | WebhookHandler): RequestHandler {
  const handler = resolveWebhookHandler(options);
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method !== "POST") {
      next();
      return;
    }
    // Not returned (Express 4 ignores a middleware's promise): both outcomes are handled here.
    // handle() turns every failure of its own into an answer, so a rejection is a bug or a
    // custom handler's error, which Express's error handling gets.
    handler.handle(toWebhookRequest(req, handler)).then((result) => answer(res, result), next);
  };
}

/**
 * Verify-only Express middleware: on an authentic, fresh delivery it sets `req.kallimaEvent`
 * and calls `next()`, so that your own route handles the event; otherwise it answers the error
 * itself (401, 400, 413 or 500 with a JSON body) and your route does not run.
 *
 * It neither deduplicates nor runs handlers: Kallima delivers at least once, so your route must
 * tolerate a repeated `req.kallimaEvent.id`. Use {@link kallimaWebhooks} to have both done for you.
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
  options: VerifyKallimaWebhookOptions | WebhookHandler,
): RequestHandler {
  if (
    !isWebhookHandler(options) &&
    typeof options === "object" &&
    options !== null &&
    ("on" in options || "onUnhandled" in options)
  ) {
    throw new WebhookConfigError(
      "invalid_option",
      "verifyKallimaWebhook only verifies and never runs `on` or `onUnhandled` handlers: handle req.kallimaEvent in your route, or use kallimaWebhooks() instead.",
    );
  }
  const handler = resolveWebhookHandler(options as WebhookHandlerOptions | WebhookHandler);
  return (req: Request, res: Response, next: NextFunction): void => {
    // As in kallimaWebhooks: not returned, and both outcomes handled here. next() does not
    // throw for an error of a later route: Express catches that itself and routes it.
    handler.verify(toWebhookRequest(req, handler)).then((outcome) => {
      if (!outcome.ok) {
        answer(res, outcome.result);
        return;
      }
      req.kallimaEvent = outcome.event;
      next();
    }, next);
  };
}
