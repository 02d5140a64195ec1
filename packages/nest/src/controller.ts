import { ServerResponse } from "node:http";
import type { WebhookHandler, WebhookResult } from "@kallima/webhooks";
import { writeResult } from "@kallima/webhooks/node";
import {
  All,
  Controller,
  createParamDecorator,
  type ExecutionContext,
  type HttpServer,
  Inject,
  Req,
  Res,
  SetMetadata,
  type Type,
  VERSION_NEUTRAL,
} from "@nestjs/common";
import { ContextIdFactory, HttpAdapterHost, ModuleRef } from "@nestjs/core";
import { KALLIMA_WEBHOOK_HANDLER } from "./constants.js";
import { deliveryContext, KallimaEventsExplorer } from "./explorer.js";
import { FASTIFY_ROUTE_CONFIG_METADATA, KALLIMA_FASTIFY_ROUTE_CONFIG } from "./fastify.js";
import {
  type NestWebhookContext,
  type NestWebhookRequest,
  nodeRequestOf,
  toWebhookRequest,
} from "./request.js";

/** The route's own `ExecutionContext`, for the handlers' context. */
const Execution = createParamDecorator((_data: unknown, context: ExecutionContext) => context);

/** The Node response under either platform: Express hands one over, Fastify wraps one as `raw`. */
function nodeResponseOf(res: unknown): ServerResponse | undefined {
  if (res instanceof ServerResponse) return res;
  const raw = (res as { raw?: unknown } | null)?.raw;
  return raw instanceof ServerResponse ? raw : undefined;
}

/** Writes the core's answer as is, on either platform. */
function reply(adapter: HttpServer, req: NestWebhookRequest, res: unknown, result: WebhookResult) {
  const node = nodeResponseOf(res);
  if (node && (node.headersSent || res instanceof ServerResponse)) {
    // Express platform, or an answer someone else started: the core's writer, which closes a
    // connection whose upload it stopped reading (a 413 while streaming) and cuts one whose
    // headers were already sent.
    writeResult(node, result);
    return;
  }
  // Fastify: through the platform's reply, closing a connection whose body was left unread.
  for (const [name, value] of Object.entries(result.headers)) adapter.setHeader(res, name, value);
  if (nodeRequestOf(req)?.complete === false) adapter.setHeader(res, "connection", "close");
  adapter.reply(res, result.body, result.status);
}

/**
 * The module's webhook route at `path`, for every method (the core answers all but POST with
 * 405): verifies, deduplicates and dispatches to the `@OnKallimaEvent()` handlers through the
 * core, and writes the core's answer as is (so global interceptors and exception filters do not
 * reshape what Kallima reads).
 */
export function createKallimaWebhookController(path: string): Type<unknown> {
  // One class per path: Nest reads the route from the class, so it cannot be shared.
  @Controller({ path, version: VERSION_NEUTRAL })
  class KallimaWebhookController {
    constructor(
      @Inject(KALLIMA_WEBHOOK_HANDLER) private readonly handler: WebhookHandler<NestWebhookContext>,
      @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
      @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
      @Inject(KallimaEventsExplorer) private readonly explorer: KallimaEventsExplorer,
    ) {}

    @All()
    @SetMetadata(FASTIFY_ROUTE_CONFIG_METADATA, KALLIMA_FASTIFY_ROUTE_CONFIG)
    async receive(
      @Req() req: NestWebhookRequest,
      @Res() res: unknown,
      @Execution() context: ExecutionContext,
    ): Promise<void> {
      const delivery = () => this.handler.handle(toWebhookRequest(req, context));
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
      reply(this.adapterHost.httpAdapter, req, res, result);
    }
  }
  return KallimaWebhookController;
}
