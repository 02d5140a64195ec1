import {
  readRequestBody,
  resolveWebhookHandler,
  type VerifiedKallimaEvent,
  type WebhookHandler,
  type WebhookHandlerOptions,
} from "@kallima/webhooks";

export {
  createWebhookHandler,
  getFailureReason,
  HandlerFailedError,
  isEventType,
  type KallimaEvent,
  type KallimaEventType,
  KallimaWebhookError,
  memoryStore,
  PayloadTooLargeError,
  RawBodyUnavailableError,
  statusForCode,
  type VerifiedKallimaEvent,
  WebhookConfigError,
  type WebhookErrorCode,
  type WebhookHandler,
  type WebhookHandlerOptions,
  WebhookSignatureError,
} from "@kallima/webhooks";

/**
 * An App Router route handler: takes the `Request` Next.js gives a `route.ts` export and answers
 * with a `Response`. The second argument (route params) is accepted and ignored.
 */
export type KallimaRouteHandler = (request: Request, context?: unknown) => Promise<Response>;

/**
 * Makes an App Router route handler that verifies, deduplicates and dispatches Kallima webhooks.
 * It reads the exact body bytes from the `Request` and uses Web APIs only, so the same export
 * runs on the Node.js runtime and on the Edge runtime (`export const runtime = "edge"`).
 *
 * Takes handler options, or a handler made with `createWebhookHandler` to share one between routes.
 * Build it once, at module scope: the in-memory idempotency store lives in the handler.
 *
 * @example
 * ```ts
 * // app/kallima-events/route.ts
 * import { kallimaWebhooks } from "@kallima/webhooks-next";
 *
 * export const POST = kallimaWebhooks({
 *   secret: process.env.KALLIMA_WEBHOOK_SECRET!,
 *   on: { "job.completed": (event) => console.log(event.data.id) },
 * });
 * ```
 */
export function kallimaWebhooks(
  options: WebhookHandlerOptions | WebhookHandler,
): KallimaRouteHandler {
  const handler = resolveWebhookHandler(options);
  return (request) => handler.fetch(request);
}

// One handler per options object, so that a route calling verifyKallimaWebhook with a
// module-level options constant validates its secrets once rather than on every delivery.
const handlers = new WeakMap<object, WebhookHandler>();

function handlerFor(options: WebhookHandlerOptions | WebhookHandler): WebhookHandler {
  let handler = handlers.get(options);
  if (!handler) {
    handler = resolveWebhookHandler(options);
    handlers.set(options, handler);
  }
  return handler;
}

/**
 * Verifies a delivery and gives its event, for routes that write their own body. It only
 * verifies: no deduplication and no handlers run (`on` is ignored). Throws the
 * {@link KallimaWebhookError} that says what was wrong: answer with `error.code`, and with a
 * non-2xx status so that Kallima retries what was not accepted.
 *
 * @example
 * ```ts
 * import {
 *   isEventType,
 *   KallimaWebhookError,
 *   statusForCode,
 *   verifyKallimaWebhook,
 * } from "@kallima/webhooks-next";
 *
 * const options = { secret: process.env.KALLIMA_WEBHOOK_SECRET! };
 *
 * export async function POST(request: Request) {
 *   try {
 *     const event = await verifyKallimaWebhook(request, options);
 *     if (isEventType(event, "job.completed")) await saveResult(event.data.id);
 *     return Response.json({ received: true });
 *   } catch (error) {
 *     if (error instanceof KallimaWebhookError) {
 *       return Response.json({ error: { code: error.code } }, { status: statusForCode(error.code) });
 *     }
 *     throw error;
 *   }
 * }
 * ```
 */
export async function verifyKallimaWebhook(
  request: Request,
  options: WebhookHandlerOptions | WebhookHandler,
): Promise<VerifiedKallimaEvent> {
  const handler = handlerFor(options);
  const outcome = await handler.verify({
    headers: request.headers,
    rawBody: readRequestBody(request, handler.maxBodyBytes),
  });
  if (outcome.ok) return outcome.event;
  throw outcome.result.error;
}
