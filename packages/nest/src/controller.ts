import type { WebhookHandler, WebhookResult } from "@kallima/webhooks";
import { Controller, Inject, Post, Req, Res, type Type, VERSION_NEUTRAL } from "@nestjs/common";
import { ContextIdFactory, HttpAdapterHost, ModuleRef } from "@nestjs/core";
import { KALLIMA_WEBHOOK_HANDLER } from "./constants.js";
import { deliveryContext, KallimaEventsExplorer } from "./explorer.js";
import { type NestWebhookRequest, readNestRawBody } from "./request.js";

/**
 * The module's webhook route at `path`: verifies, deduplicates and dispatches to the
 * `@OnKallimaEvent()` handlers through the core, and writes the core's answer as is (so global
 * interceptors and exception filters do not reshape what Kallima reads).
 */
export function createKallimaWebhookController(path: string): Type<unknown> {
  // One class per path: Nest reads the route from the class, so it cannot be shared.
  @Controller({ path, version: VERSION_NEUTRAL })
  class KallimaWebhookController {
    constructor(
      @Inject(KALLIMA_WEBHOOK_HANDLER) private readonly handler: WebhookHandler,
      @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
      @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
      @Inject(KallimaEventsExplorer) private readonly explorer: KallimaEventsExplorer,
    ) {}

    @Post()
    async receive(@Req() req: NestWebhookRequest, @Res() res: unknown): Promise<void> {
      const delivery = () =>
        this.handler.handle({
          headers: req.headers,
          rawBody: readNestRawBody(req, this.handler.maxBodyBytes),
        });
      let result: WebhookResult;
      if (this.explorer.requestScoped) {
        // Request-scoped handlers of this delivery share one DI context, with REQUEST set.
        const contextId = ContextIdFactory.getByRequest(req);
        this.moduleRef.registerRequestByContextId(req, contextId);
        result = await deliveryContext.run(contextId, delivery);
      } else {
        // No request-scoped handler: skip the per-delivery DI context and its async context.
        result = await delivery();
      }
      const adapter = this.adapterHost.httpAdapter;
      for (const [name, value] of Object.entries(result.headers)) {
        adapter.setHeader(res, name, value);
      }
      adapter.reply(res, result.body, result.status);
    }
  }
  return KallimaWebhookController;
}
