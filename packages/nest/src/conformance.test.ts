import {
  type ConformanceApp,
  type ConformanceOptions,
  type ConformanceResponse,
  type ConformanceTarget,
  expectExportParity,
  runConformanceSuite,
} from "@kallima/webhooks-conformance";
import {
  All,
  Controller,
  HttpCode,
  Injectable,
  type ModuleMetadata,
  type Type,
  UseGuards,
} from "@nestjs/common";
import { expect, it } from "vitest";
import {
  KallimaEvent,
  type KallimaEventType,
  KallimaWebhooksModule,
  kallimaWebhooks,
  type NestWebhookContext,
  OnKallimaEvent,
  type VerifiedKallimaEvent,
  verifyKallimaWebhook,
} from "./index.js";
import { PLATFORMS, type Platform, startApp } from "./test-support/app.js";

/** A provider with one `@OnKallimaEvent()` method per handler the suite asks for. */
function decoratedHandlers(on: ConformanceOptions["on"]): Type<unknown> {
  @Injectable()
  class ConformanceHandlers {}
  for (const [type, handler] of Object.entries(on)) {
    const key = `on ${type}`;
    Object.defineProperty(ConformanceHandlers.prototype, key, {
      value: (event: never, context: NestWebhookContext) => handler(event, context),
      writable: true,
      configurable: true,
    });
    const descriptor = Object.getOwnPropertyDescriptor(ConformanceHandlers.prototype, key)!;
    OnKallimaEvent(type as KallimaEventType)(ConformanceHandlers.prototype, key, descriptor);
  }
  return ConformanceHandlers;
}

async function serve(platform: Platform, metadata: ModuleMetadata, path: string) {
  const running = await startApp(platform, metadata);
  return {
    async send({ method = "POST", headers, body }): Promise<ConformanceResponse> {
      const response = await fetch(`${running.url}${path}`, { method, headers, body });
      return {
        status: response.status,
        headers: Object.fromEntries(response.headers),
        body: await response.text(),
      };
    },
    close: () => running.close(),
  } satisfies ConformanceApp;
}

/** The context the README promises: the platform's request, and the route's ExecutionContext. */
function isFrameworkContext(context: unknown): boolean {
  const { request, executionContext } = (context ?? {}) as Partial<NestWebhookContext>;
  return (
    typeof request?.headers === "object" &&
    executionContext?.switchToHttp().getRequest() === request &&
    typeof executionContext.getHandler() === "function"
  );
}

/** verifyKallimaWebhook() in front of a route of the app's own, for every method. */
async function setupVerifyOnly(platform: Platform, options: Record<string, unknown>) {
  @Controller("verified")
  class VerifiedController {
    @All()
    @HttpCode(200)
    @UseGuards(verifyKallimaWebhook(options as Parameters<typeof verifyKallimaWebhook>[0]))
    receive(@KallimaEvent() event: VerifiedKallimaEvent) {
      return { verified: event.id };
    }
  }
  return serve(platform, { controllers: [VerifiedController] }, "/verified");
}

const styles = [
  // The Nest idiom: the module, with the handlers as decorated provider methods.
  ...PLATFORMS.map((platform) => ({ platform, style: "@OnKallimaEvent" as const })),
  // The contract's names: kallimaWebhooks(options) with an `on` map.
  { platform: "express" as const, style: "kallimaWebhooks, on map" as const },
];

for (const { platform, style } of styles) {
  const target: ConformanceTarget & { frameworkRejectsMalformedJson: boolean } = {
    // Nest's own body parser answers a malformed JSON body (400) before any route or guard runs;
    // the suite then checks the status and that nothing ran, not the error code.
    frameworkRejectsMalformedJson: true,
    setup: ({ on, ...options }) =>
      serve(
        platform,
        style === "@OnKallimaEvent"
          ? {
              imports: [KallimaWebhooksModule.forRoot(options)],
              providers: [decoratedHandlers(on)],
            }
          : { imports: [kallimaWebhooks({ ...options, on })] },
        "/kallima-events",
      ),
    contract: {
      isFrameworkContext,
      setupVerifyOnly: (options) => setupVerifyOnly(platform, options),
    },
  };
  runConformanceSuite(`nest on ${platform} (module route, ${style})`, target);
}

it("re-exports the core's whole surface, plus kallimaWebhooks and verifyKallimaWebhook", async () => {
  expectExportParity(await import("./index.js"), await import("@kallima/webhooks"));
  const testing = await import("./testing.js");
  expect(Object.keys(testing).sort()).toEqual(
    Object.keys(await import("@kallima/webhooks/testing")).sort(),
  );
});
