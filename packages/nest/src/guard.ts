import type { WebhookHandler, WebhookResult } from "@kallima/webhooks";
import {
  type CanActivate,
  type ExecutionContext,
  HttpException,
  Inject,
  Injectable,
} from "@nestjs/common";
import { HttpAdapterHost } from "@nestjs/core";
import { KALLIMA_EVENT_PROPERTY, KALLIMA_WEBHOOK_HANDLER } from "./constants.js";
import { type NestWebhookRequest, nodeRequestOf, toWebhookRequest } from "./request.js";

/**
 * A delivery that failed verification, as `KallimaWebhookGuard` throws it: an `HttpException`
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

/**
 * Verifies the delivery before a controller method runs, from the raw body Nest keeps when the
 * app is created with `rawBody: true`. On success the typed event is on the request (read it
 * with `@KallimaEvent()`); on failure it answers the core's status and error body (400/401/413,
 * or 500 `raw_body_unavailable` when the raw body was not kept). It only verifies: deduplication
 * and dispatch are the module's own route, or yours.
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
    @Inject(KALLIMA_WEBHOOK_HANDLER) private readonly handler: WebhookHandler,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<NestWebhookRequest>();
    const verified = await this.handler.verify(toWebhookRequest(req, this.handler.maxBodyBytes));
    if (verified.ok) {
      req[KALLIMA_EVENT_PROPERTY] = verified.event;
      return true;
    }
    const adapter = this.adapterHost.httpAdapter;
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
}
