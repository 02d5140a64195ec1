import type {
  EventHandlers,
  UnknownEventTypes,
  VerifiedKallimaEvent,
  VerifyOnlyOptions,
  WebhookHandler,
  WebhookHandlerOptions,
} from "@kallima/webhooks";
import { createVerifyOnlyHandler, resolveWebhookHandler } from "@kallima/webhooks/adapter";
import type { Context } from "aws-lambda";
import type { LambdaHttpEvent, LambdaHttpResult, LambdaWebhookContext } from "./sources.js";
import { lambdaResult, webhookRequest } from "./translate.js";

// One package to install and import: the core's whole surface, plus the Lambda helpers below.
export * from "@kallima/webhooks";
export type {
  LambdaEventSource,
  LambdaHttpEvent,
  LambdaHttpResult,
  LambdaWebhookContext,
} from "./sources.js";

/**
 * Options of {@link kallimaWebhooks}: the core's handler options, with `{ event, context }` as
 * the handlers' second argument and as the argument of a `secret` function.
 */
export type KallimaLambdaOptions<TEvent extends LambdaHttpEvent = LambdaHttpEvent> =
  WebhookHandlerOptions<LambdaWebhookContext<TEvent>>;

/**
 * {@link KallimaLambdaOptions} with `on` checked key by key, so that a misspelled event type is
 * reported in plain words (see `UnknownEventTypes`). `TOn` is inferred from `on`.
 */
export type KallimaLambdaOptionsFor<
  TEvent extends LambdaHttpEvent = LambdaHttpEvent,
  TOn = EventHandlers<LambdaWebhookContext<TEvent>>,
> = Omit<KallimaLambdaOptions<TEvent>, "on"> & {
  /** Handlers by event type. More can be added with `.on()`. */
  on?: TOn & EventHandlers<LambdaWebhookContext<TEvent>> & UnknownEventTypes<TOn>;
};

/** Options of {@link verifyKallimaWebhook}: the core's verify-only options, with `{ event, context }`. */
export type KallimaLambdaVerifyOptions<TEvent extends LambdaHttpEvent = LambdaHttpEvent> =
  VerifyOnlyOptions<LambdaWebhookContext<TEvent>>;

/** A handler made with `createWebhookHandler`: typed for `{ event, context }`, or for none. */
export type LambdaWebhookHandler<TEvent extends LambdaHttpEvent = LambdaHttpEvent> =
  | WebhookHandler<LambdaWebhookContext<TEvent>>
  | WebhookHandler;

/**
 * A Lambda function handler for HTTP events: assignable to `APIGatewayProxyHandler`,
 * `APIGatewayProxyHandlerV2`, `ALBHandler` or `Handler<TEvent, …>` of `@types/aws-lambda`.
 */
export type LambdaHttpHandler<TEvent extends LambdaHttpEvent = LambdaHttpEvent> = (
  event: TEvent,
  context: Context,
) => Promise<LambdaHttpResult<TEvent>>;

/** Your route behind {@link verifyKallimaWebhook}: gets the verified event, answers the source. */
export type VerifiedLambdaRoute<TEvent extends LambdaHttpEvent = LambdaHttpEvent> = (
  kallimaEvent: VerifiedKallimaEvent,
  invocation: LambdaWebhookContext<TEvent>,
) => LambdaHttpResult<TEvent> | Promise<LambdaHttpResult<TEvent>>;

/**
 * An AWS Lambda handler that receives Kallima webhooks from API Gateway (REST APIs, HTTP APIs
 * with payload 1.0 or 2.0), a Lambda Function URL or an Application Load Balancer: verifies the
 * exact body bytes (base64-decoded when the source encoded them), drops repeats, runs the
 * handler for the event's type (with `{ event, context }` as its second argument) and answers in
 * the shape the source expects, with the status that makes Kallima retry exactly what failed.
 * Any method but POST is answered 405. Takes handler options or a handler made with
 * `createWebhookHandler`. Create it once, at module scope, so that warm invocations share its
 * dedupe store (use a shared store, such as Redis, across instances).
 *
 * @example
 * ```ts
 * export const handler = kallimaWebhooks({
 *   secret: process.env.KALLIMA_WEBHOOK_SECRET!,
 *   on: { "job.completed": (event) => saveResult(event.data.id) },
 * });
 * ```
 */
export function kallimaWebhooks<
  TEvent extends LambdaHttpEvent = LambdaHttpEvent,
  TOn = EventHandlers<LambdaWebhookContext<TEvent>>,
>(
  options: KallimaLambdaOptionsFor<TEvent, TOn> | LambdaWebhookHandler<TEvent>,
): LambdaHttpHandler<TEvent> {
  // A handler typed for no context ignores the one it is given, so it serves as one for Lambda's.
  const handler = resolveWebhookHandler(options as KallimaLambdaOptions<TEvent>);
  return async (event, context) =>
    lambdaResult(event, await handler.handle(webhookRequest({ event, context })));
}

/**
 * Verify-only: checks the delivery, then calls your `route` with the verified event and
 * `{ event, context }`; your route's answer is the function's. A failed check (or another method
 * than POST: 405) is answered here and the route does not run. It does not deduplicate: your
 * route decides what a repeat means (dedupe by `kallimaEvent.id`).
 *
 * @example
 * ```ts
 * export const handler = verifyKallimaWebhook<APIGatewayProxyEventV2>({ secret }, async (kallimaEvent) => {
 *   await queue.send(kallimaEvent);
 *   return { statusCode: 202, body: "" };
 * });
 * ```
 */
export function verifyKallimaWebhook<TEvent extends LambdaHttpEvent = LambdaHttpEvent>(
  options: KallimaLambdaVerifyOptions<TEvent> | LambdaWebhookHandler<TEvent>,
  route: VerifiedLambdaRoute<TEvent>,
): LambdaHttpHandler<TEvent> {
  const handler = createVerifyOnlyHandler(options as KallimaLambdaVerifyOptions<TEvent>, {
    adapterName: "verifyKallimaWebhook",
  });
  return async (event, context) => {
    const invocation: LambdaWebhookContext<TEvent> = { event, context };
    const verified = await handler.verify(webhookRequest(invocation));
    if (!verified.ok) return lambdaResult(event, verified.result);
    return route(verified.event, invocation);
  };
}
