import { AsyncLocalStorage } from "node:async_hooks";
import type { KallimaEventType, VerifiedKallimaEvent, WebhookHandler } from "@kallima/webhooks";
import { Inject, Injectable, Logger, type OnModuleInit } from "@nestjs/common";
import {
  type ContextId,
  ContextIdFactory,
  DiscoveryService,
  HttpAdapterHost,
  MetadataScanner,
  ModuleRef,
} from "@nestjs/core";
import { KALLIMA_WEBHOOK_HANDLER } from "./constants.js";
import { onKallimaEventTypes } from "./decorators.js";
import { acceptAnyContentType } from "./fastify.js";
import type { NestWebhookContext } from "./request.js";

/**
 * The DI context of the delivery being handled, so that request-scoped handler providers get the
 * instance (and `REQUEST`) of that delivery. Empty when `handle()` is called outside the route.
 */
export const deliveryContext = new AsyncLocalStorage<ContextId>();

type EventMethod = (event: VerifiedKallimaEvent, context?: NestWebhookContext) => unknown;

/**
 * Finds `@OnKallimaEvent()` methods on every provider and registers them with the handler; on
 * Fastify, also lets Kallima routes take any content type (see `acceptAnyContentType`).
 */
@Injectable()
export class KallimaEventsExplorer implements OnModuleInit {
  private readonly logger = new Logger("KallimaWebhooksModule");
  /** Whether any handler lives on a request-scoped provider, which needs a DI context per delivery. */
  requestScoped = false;

  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) private readonly scanner: MetadataScanner,
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
    @Inject(KALLIMA_WEBHOOK_HANDLER) private readonly handler: WebhookHandler<NestWebhookContext>,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
  ) {}

  onModuleInit(): void {
    acceptAnyContentType(this.adapterHost);
    // A provider exported from its module and imported elsewhere is listed more than once.
    const seen = new Set<unknown>();
    for (const wrapper of this.discovery.getProviders()) {
      const isStatic = wrapper.isDependencyTreeStatic();
      const instance: unknown = wrapper.instance;
      // Factory providers have no prototype to scan; their product is scanned when static.
      const metatype = wrapper.inject ? undefined : wrapper.metatype;
      const prototype: unknown = isStatic
        ? instance && typeof instance === "object"
          ? Object.getPrototypeOf(instance)
          : undefined
        : metatype?.prototype;
      if (!prototype || typeof prototype !== "object") continue;
      const key = isStatic ? instance : metatype;
      if (seen.has(key)) continue;
      seen.add(key);

      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const types = onKallimaEventTypes(prototype, method);
        if (types.length === 0) continue;
        if (!isStatic) this.requestScoped = true;
        const run: EventMethod = isStatic
          ? (event, context) => (instance as Record<string, EventMethod>)[method]!(event, context)
          : async (event, context) => {
              const contextId = deliveryContext.getStore() ?? ContextIdFactory.create();
              const scoped = await this.moduleRef.resolve<Record<string, EventMethod>>(
                wrapper.token,
                contextId,
                { strict: false },
              );
              return scoped[method]!(event, context);
            };
        for (const type of new Set(types)) {
          // The decorator only accepts known types; `.on()` is typed per type.
          this.handler.on(type as KallimaEventType, run);
          this.logger.debug(`${String(wrapper.name)}.${method} handles ${type}`);
        }
      }
    }
  }
}
