import type { VerifyOnlyOptions, WebhookHandler, WebhookResult } from "@kallima/webhooks";
import { createVerifyOnlyHandler, isWebhookHandler } from "@kallima/webhooks/adapter";
import {
  type CanActivate,
  type ExecutionContext,
  HttpException,
  Inject,
  Injectable,
  type OnModuleInit,
  Optional,
  type Type,
} from "@nestjs/common";
import { HttpAdapterHost } from "@nestjs/core";
import { KALLIMA_EVENT_PROPERTY, KALLIMA_WEBHOOK_HANDLER } from "./constants.js";
import { acceptAnyContentType } from "./fastify.js";
import { withNestLogger } from "./logging.js";
import {
  type NestWebhookContext,
  type NestWebhookRequest,
  nodeRequestOf,
  toWebhookRequest,
} from "./request.js";

/**
 * A delivery that failed verification, as the verifying guards throw it: an `HttpException`
 * whose status and body are the core's answer (`{ "error": { "code", "message" } }`), so Nest's
 * exception layer sends exactly what Kallima expects. `result` holds the full answer.
 *
 * @example
 * ```ts
 * @Catch(KallimaWebhookException)
 * class LogRejected implements ExceptionFilter { … exception.result.error?.code … }
 * ```
 */
export class KallimaWebhookException extends HttpException {
  /** The core's answer: status, headers, body and the error behind it. */
  readonly result: WebhookResult;

  constructor(result: WebhookResult) {
    super(JSON.parse(result.body) as Record<string, unknown>, result.status, {
      cause: result.error,
    });
    this.name = "KallimaWebhookException";
    this.result = result;
  }
}

/** Verifies the delivery of a guarded route: the event on the request, or the core's answer thrown. */
async function verifyRoute(
  handler: WebhookHandler<NestWebhookContext>,
  context: ExecutionContext,
  adapterHost: HttpAdapterHost | undefined,
): Promise<true> {
  const http = context.switchToHttp();
  const req = http.getRequest<NestWebhookRequest>();
  const verified = await handler.verify(toWebhookRequest(req, context));
  if (verified.ok) {
    req[KALLIMA_EVENT_PROPERTY] = verified.event;
    return true;
  }
  const adapter = adapterHost?.httpAdapter;
  if (adapter) {
    const res: unknown = http.getResponse();
    for (const [name, value] of Object.entries(verified.result.headers)) {
      // The exception layer writes the body and sets its own JSON content type.
      if (name !== "content-type") adapter.setHeader(res, name, value);
    }
    if (nodeRequestOf(req)?.complete === false) {
      // The body was not read to its end (a 413 while streaming it): close the connection
      // after the answer, or Node would read whatever the client still sends.
      adapter.setHeader(res, "connection", "close");
    }
  }
  throw new KallimaWebhookException(verified.result);
}

/**
 * Verifies the delivery before a controller method runs, with the module's options (so a secret
 * from `forRootAsync`). On success the typed event is on the request (read it with
 * `@KallimaEvent()`); on failure it answers the core's status and error body (400/401/405/413,
 * or 500 `raw_body_unavailable` when the raw body was not kept). It only verifies: deduplication
 * and dispatch are the module's own route, or yours. Without the module, use
 * {@link verifyKallimaWebhook}.
 *
 * @example
 * ```ts
 * @Controller("billing/kallima")
 * export class BillingWebhookController {
 *   @Post()
 *   @UseGuards(KallimaWebhookGuard)
 *   receive(@KallimaEvent() event: VerifiedKallimaEvent) {
 *     return { received: true };
 *   }
 * }
 * ```
 */
@Injectable()
export class KallimaWebhookGuard implements CanActivate {
  constructor(
    @Inject(KALLIMA_WEBHOOK_HANDLER) private readonly handler: WebhookHandler<NestWebhookContext>,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
  ) {}

  canActivate(context: ExecutionContext): Promise<boolean> {
    return verifyRoute(this.handler, context, this.adapterHost);
  }
}

/**
 * The verify-only guard, standalone: a guard class of its own options, for
 * `@UseGuards(verifyKallimaWebhook({ secret }))` on a route of yours, no module needed. The route
 * gets the verified event with `@KallimaEvent()` and handles it (deduplicating by `event.id`);
 * failures are answered with the core's status and body, as by `KallimaWebhookGuard`. Handler
 * options (`on`, `onUnhandled`, `idempotency`, `deadlineMs`) are refused with an
 * `invalid_option` error, here at once.
 *
 * @example
 * ```ts
 * @Post("kallima")
 * @UseGuards(verifyKallimaWebhook({ secret: process.env.KALLIMA_WEBHOOK_SECRET! }))
 * receive(@KallimaEvent() event: VerifiedKallimaEvent) { return { received: event.id }; }
 * ```
 */
export function verifyKallimaWebhook(
  options:
    | VerifyOnlyOptions<NestWebhookContext>
    | WebhookHandler<NestWebhookContext>
    | WebhookHandler,
): Type<CanActivate> {
  // A handler made without a context type takes any context, this one included.
  const handler = isWebhookHandler(options)
    ? (options as WebhookHandler<NestWebhookContext>)
    : createVerifyOnlyHandler(withNestLogger(options), { adapterName: "verifyKallimaWebhook" });

  @Injectable()
  class VerifyKallimaWebhookGuard implements CanActivate, OnModuleInit {
    constructor(
      @Optional() @Inject(HttpAdapterHost) private readonly adapterHost?: HttpAdapterHost,
    ) {}

    onModuleInit(): void {
      acceptAnyContentType(this.adapterHost);
    }

    canActivate(context: ExecutionContext): Promise<boolean> {
      return verifyRoute(handler, context, this.adapterHost);
    }
  }
  return VerifyKallimaWebhookGuard;
}
