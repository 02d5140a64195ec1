import {
  type ConformanceOptions,
  type ConformanceResponse,
  type ConformanceTarget,
  runConformanceSuite,
} from "@kallima/webhooks-conformance";
import { Injectable, type Type } from "@nestjs/common";
import { type KallimaEventType, KallimaWebhooksModule, OnKallimaEvent } from "./index.js";
import { PLATFORMS, startApp } from "./test-support/app.js";

/** A provider with one `@OnKallimaEvent()` method per handler the suite asks for. */
function decoratedHandlers(on: ConformanceOptions["on"]): Type<unknown> {
  @Injectable()
  class ConformanceHandlers {}
  for (const [type, handler] of Object.entries(on)) {
    const key = `on ${type}`;
    Object.defineProperty(ConformanceHandlers.prototype, key, {
      // A decorated method is called with the event alone: there is no context to hand on.
      value: (event: never) => handler(event, undefined),
      writable: true,
      configurable: true,
    });
    const descriptor = Object.getOwnPropertyDescriptor(ConformanceHandlers.prototype, key)!;
    OnKallimaEvent(type as KallimaEventType)(ConformanceHandlers.prototype, key, descriptor);
  }
  return ConformanceHandlers;
}

for (const platform of PLATFORMS) {
  const target: ConformanceTarget & { frameworkRejectsMalformedJson: boolean } = {
    // Nest's own body parser answers a malformed JSON body (400) before any route or guard runs;
    // the suite then checks the status and that nothing ran, not the error code.
    frameworkRejectsMalformedJson: true,
    // The module's route is @Post(): other methods are Nest's (no route: 404), never a handler run.
    otherMethods: "passes-on",
    async setup({ on, ...options }) {
      const running = await startApp(platform, {
        imports: [KallimaWebhooksModule.forRoot(options)],
        providers: [decoratedHandlers(on)],
      });
      return {
        async send({ method = "POST", headers, body }): Promise<ConformanceResponse> {
          const response = await fetch(`${running.url}/kallima-events`, { method, headers, body });
          return {
            status: response.status,
            headers: Object.fromEntries(response.headers),
            body: await response.text(),
          };
        },
        close: () => running.close(),
      };
    },
  };
  runConformanceSuite(`nest on ${platform} (module route, @OnKallimaEvent)`, target);
}
