import { ServerResponse } from "node:http";
import type { WebhookHandler, WebhookResult } from "@kallima/webhooks";
import { writeResult } from "@kallima/webhooks/node";
import {
  Controller,
  type HttpServer,
  Inject,
  Post,
  Req,
  Res,
  type Type,
  VERSION_NEUTRAL,
} from "@nestjs/common";
import { ContextIdFactory, HttpAdapterHost, ModuleRef } from "@nestjs/core";
import { KALLIMA_WEBHOOK_HANDLER } from "./constants.js";
import { deliveryContext, KallimaEventsExplorer } from "./explorer.js";
import { type NestWebhookRequest, toWebhookRequest } from "./request.js";

/** The Node response under either platform: Express hands one over, Fastify wraps one as `raw`. */
function nodeResponseOf(res: unknown): ServerResponse | undefined {
  if (res instanceof ServerResponse) return res;
  const raw = (res as { raw?: unknown } | null)?.raw;
  return raw instanceof ServerResponse ? raw : undefined;
}

/** Writes the core's answer as is, on either platform. */
function reply(adapter: HttpServer, res: unknown, result: WebhookResult): void {
  const node = nodeResponseOf(res);
  if (node?.headersSent && !node.writableEnded) {
    // Something else (an interceptor, a middleware) started the answer: its status can no
    // longer be set. A cut connection makes Kallima retry, where a hanging request or a status
    // someone else chose would not.
    node.destroy();
    return;
  }
  if (res instanceof ServerResponse) {
    // Express platform: the core's writer, which also closes a connection whose upload it
    // stopped reading (a 413 while streaming) instead of letting Node drain the rest.
    writeResult(res, result);
    return;
  }
  // Fastify (its parser has read the whole body by now): through the platform's reply.
  for (const [name, value] of Object.entries(result.headers)) adapter.setHeader(res, name, value);
  adapter.reply(res, result.body, result.status);
}

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
      const delivery = () => this.handler.handle(toWebhookRequest(req, this.handler.maxBodyBytes));
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
      reply(this.adapterHost.httpAdapter, res, result);
    }
  }
  return KallimaWebhookController;
}
