import type { EventHandlers, VerifiedKallimaEvent, WebhookHandler } from "@kallima/webhooks";
import { readRequestBody, toResponse, type VerifyOnlyOptions } from "@kallima/webhooks/adapter";
import { type CheckedHandlerOptions, handlerFor, verifyOnlyHandlerFor } from "./shared.js";

// One package to install and import: the core's whole surface, plus this adapter's helpers.
export * from "@kallima/webhooks";

/** Route params as Next.js gives them: one string per segment, a list for a catch-all. */
export type NextRouteParams = Record<string, string | string[] | undefined>;

/** The second argument Next.js (15 and later) passes an App Router route handler. */
export interface NextRouteContext<TParams = NextRouteParams> {
  params: Promise<TParams>;
}

/**
 * What App Router handlers, and a `secret` function, get as their second argument: the request
 * (a `NextRequest` under Next.js) and the route's `params`, a Promise as Next.js gives it.
 */
export interface KallimaRouteContext<TParams = NextRouteParams> {
  request: Request;
  params: Promise<TParams>;
}

/**
 * An App Router route handler, to export as `POST` from a `route.ts`. The route context is
 * required, as Next.js passes it (its build checks the type): in a unit test, pass
 * `{ params: Promise.resolve({}) }`.
 */
export type KallimaRouteHandler<TParams = NextRouteParams> = (
  request: Request,
  routeContext: NextRouteContext<TParams>,
) => Promise<Response>;

/** What {@link verifyKallimaWebhook} gives: the event, or the answer to return as is. */
export type KallimaWebhookVerification =
  | { ok: true; event: VerifiedKallimaEvent }
  | { ok: false; response: Response };

// verifyKallimaWebhook's route context is optional; a plain-JS test may call a route without one.
const contextOf = <TParams>(
  request: Request,
  routeContext: NextRouteContext<TParams> | undefined,
): KallimaRouteContext<TParams> => ({
  request,
  params: routeContext?.params ?? Promise.resolve({} as TParams),
});

/**
 * Makes an App Router route handler that verifies, deduplicates and dispatches Kallima webhooks,
 * on the Node.js and Edge runtimes alike. Handlers get `{ request, params }` as their second
 * argument. Build it once, at module scope: the in-memory idempotency store lives in it.
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
export function kallimaWebhooks<
  TParams = NextRouteParams,
  TOn = EventHandlers<KallimaRouteContext<TParams>>,
>(
  options:
    | CheckedHandlerOptions<KallimaRouteContext<TParams>, TOn>
    | WebhookHandler<KallimaRouteContext<TParams>>
    | WebhookHandler,
): KallimaRouteHandler<TParams> {
  const handler = handlerFor(options);
  return (request, routeContext) => handler.fetch(request, contextOf(request, routeContext));
}

/**
 * Verifies a delivery for a route that handles the event itself. It only verifies: no handlers,
 * no deduplication (dedupe by `event.id`), and handler options such as `on` are refused. Gives
 * `{ ok: true, event }`, or `{ ok: false, response }`: the core's answer, to return as is.
 * Pass the route context as the third argument when a `secret` function reads `params`.
 *
 * @example
 * ```ts
 * import { isEventType, verifyKallimaWebhook } from "@kallima/webhooks-next";
 *
 * const options = { secret: process.env.KALLIMA_WEBHOOK_SECRET! };
 *
 * export async function POST(request: Request) {
 *   const verified = await verifyKallimaWebhook(request, options);
 *   if (!verified.ok) return verified.response;
 *   if (isEventType(verified.event, "job.completed")) console.log(verified.event.data.id);
 *   return Response.json({ received: true });
 * }
 * ```
 */
export async function verifyKallimaWebhook<TParams = NextRouteParams>(
  request: Request,
  options:
    | VerifyOnlyOptions<KallimaRouteContext<TParams>>
    | WebhookHandler<KallimaRouteContext<TParams>>
    | WebhookHandler,
  routeContext?: NextRouteContext<TParams>,
): Promise<KallimaWebhookVerification> {
  const outcome = await verifyOnlyHandlerFor<KallimaRouteContext<TParams>>(options).verify({
    method: request.method,
    headers: request.headers,
    rawBody: (limit) => readRequestBody(request, limit),
    context: contextOf(request, routeContext),
  });
  return outcome.ok
    ? { ok: true, event: outcome.event }
    : { ok: false, response: toResponse(outcome.result) };
}
