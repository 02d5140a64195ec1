import {
  isWebhookHandler,
  resolveWebhookHandler,
  type VerifiedKallimaEvent,
  WebhookConfigError,
  type WebhookHandler,
  type WebhookHandlerOptions,
  type WebhookRequest,
} from "@kallima/webhooks";
import {
  keepRawBody,
  type NodeWebhookRequest,
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
    headers: req.headers,
    rawBody: readRawBody(req as NodeWebhookRequest, {
      maxBodyBytes: handler.maxBodyBytes,
      consumedBodyHint: CONSUMED_BODY_HINT,
    }),
  };
}

/**
 * Terminal Express middleware that receives Kallima webhooks: it reads the raw body, verifies
 * the signature and freshness, drops repeats, runs the handler for the event's type and answers
 * with the status Kallima's retries rely on (2xx handled or duplicate, 4xx rejected, 5xx retry).
 *
 * Takes the core handler options, or a handler made with `createWebhookHandler`. Requests that
 * are not `POST` go on to the next route, so a `GET` route may share the path.
 * Errors that are not this library's own (such as a broken request stream) go to `next(err)`.
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
    // The promise is not returned: Express 4 would ignore it, and errors already go to next().
    void (async () => {
      try {
        writeResult(res, await handler.handle(toWebhookRequest(req, handler)));
      } catch (error) {
        next(error);
      }
    })();
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
    void (async () => {
      try {
        const outcome = await handler.verify(toWebhookRequest(req, handler));
        if (!outcome.ok) {
          writeResult(res, outcome.result);
          return;
        }
        req.kallimaEvent = outcome.event;
      } catch (error) {
        next(error);
        return;
      }
      // Outside the try: an error thrown by a later route is Express's to route, not ours.
      next();
    })();
  };
}
