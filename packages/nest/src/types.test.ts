import type { KallimaEvent as CoreKallimaEvent } from "@kallima/webhooks";
import {
  type CanActivate,
  type DynamicModule,
  type ExecutionContext,
  Injectable,
  type Type,
} from "@nestjs/common";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  createWebhookHandler,
  type KallimaEvent,
  KallimaWebhooksModule,
  type KallimaWebhooksModuleOptions,
  kallimaWebhooks,
  type NestWebhookContext,
  type NestWebhookRequest,
  OnKallimaEvent,
  type UnknownEventTypes,
  type VerifiedKallimaEvent,
  verifyKallimaWebhook,
} from "./index.js";

// Checked by `tsc` (pnpm typecheck); at run time these classes are only declared.
describe("types", () => {
  it("types @OnKallimaEvent() methods by the event types", () => {
    @Injectable()
    class Handlers {
      @OnKallimaEvent("job.completed")
      completed(event: KallimaEvent<"job.completed">) {
        expectTypeOf(event.data.id).toBeString();
      }

      @OnKallimaEvent("job.completed", "job.failed")
      either(event: KallimaEvent<"job.completed" | "job.failed">) {
        expectTypeOf(event.type).toEqualTypeOf<"job.completed" | "job.failed">();
      }

      @OnKallimaEvent("webhook.test")
      wide(_event: VerifiedKallimaEvent) {}

      @OnKallimaEvent("webhook.test")
      noParameter() {}

      @OnKallimaEvent("job.completed")
      withContext(_event: KallimaEvent<"job.completed">, context: NestWebhookContext) {
        expectTypeOf(context.request).toEqualTypeOf<NestWebhookRequest>();
        expectTypeOf(context.executionContext).toEqualTypeOf<ExecutionContext | undefined>();
      }

      // @ts-expect-error the second parameter is the Nest context
      @OnKallimaEvent("job.completed")
      wrongContext(_event: KallimaEvent<"job.completed">, _context: { env: string }) {}

      // @ts-expect-error the parameter must accept the decorated type
      @OnKallimaEvent("job.failed")
      wrong(_event: KallimaEvent<"job.completed">) {}

      // @ts-expect-error a typo in an event type is caught
      @OnKallimaEvent("job.complete")
      typo() {}
    }
    expect(Handlers).toBeTypeOf("function");
  });

  it("exports KallimaEvent as the core's event type too", () => {
    expectTypeOf<KallimaEvent<"job.failed">>().toEqualTypeOf<CoreKallimaEvent<"job.failed">>();
  });

  it("types forRootAsync factories by what they inject", () => {
    class Config {
      get(key: string): string {
        return key;
      }
    }
    KallimaWebhooksModule.forRootAsync({
      inject: [Config],
      useFactory: (config: Config) => ({ secret: config.get("KALLIMA_WEBHOOK_SECRET") }),
    });
    KallimaWebhooksModule.forRootAsync({
      // @ts-expect-error the factory must return handler options or a handler
      useFactory: () => ({ secrets: "whsec_x" }),
    });
  });

  it("types on handlers and a secret function with the Nest context", () => {
    const module = kallimaWebhooks({
      secret: (context) => {
        expectTypeOf(context).toEqualTypeOf<NestWebhookContext>();
        return String(context.request.headers["x-tenant"]);
      },
      on: {
        "job.completed": (event, context) => {
          expectTypeOf(event.data.id).toBeString();
          expectTypeOf(context).toEqualTypeOf<NestWebhookContext>();
        },
      },
      logger: false,
    });
    expectTypeOf(module).toEqualTypeOf<DynamicModule>();
    expectTypeOf(kallimaWebhooks)
      .parameter(0)
      .toEqualTypeOf<Parameters<typeof KallimaWebhooksModule.forRoot>[0]>();
    // A handler made without a context type fits too (the factory is not run here).
    KallimaWebhooksModule.forRootAsync({ useFactory: () => createWebhookHandler({ secret: "x" }) });
  });

  it("names an unknown key of on: in plain words", () => {
    kallimaWebhooks({
      secret: "whsec_typo",
      on: {
        // @ts-expect-error '"job.complete" is not a Kallima event type: fix the spelling, …'
        "job.complete": () => {},
      },
    });
    KallimaWebhooksModule.forRoot({
      secret: "whsec_typo",
      path: "hooks",
      on: {
        // @ts-expect-error '"job.complete" is not a Kallima event type: fix the spelling, …'
        "job.complete": () => {},
        "job.completed": (event, context) => {
          expectTypeOf(event.data.id).toBeString();
          expectTypeOf(context).toEqualTypeOf<NestWebhookContext>();
        },
      },
    });
    KallimaWebhooksModule.forRootAsync({
      // @ts-expect-error '"job.complete" is not a Kallima event type: fix the spelling, …'
      useFactory: () => ({
        secret: "whsec_typo",
        on: { "job.completed": () => {}, "job.complete": () => {} },
      }),
    });
    KallimaWebhooksModule.forRootAsync({
      // @ts-expect-error the same from an async factory
      useFactory: async () => ({
        secret: "whsec_typo",
        on: { "job.completed": () => {}, "job.complete": () => {} },
      }),
    });
    type Message = UnknownEventTypes<{ "job.complete": unknown }>["job.complete"];
    expectTypeOf<Message>().toEqualTypeOf<'"job.complete" is not a Kallima event type: fix the spelling, handle it in onUnhandled, or add it to KallimaEventMap'>();
  });

  it("takes options built ahead as KallimaWebhooksModuleOptions", () => {
    const options: KallimaWebhooksModuleOptions = {
      secret: "whsec_x",
      isGlobal: true,
      on: { "job.completed": (_event, context) => void context.request },
    };
    kallimaWebhooks(options);
    KallimaWebhooksModule.forRoot(options);
  });

  it("types verifyKallimaWebhook as a guard class of verify-only options", () => {
    const secret = "whsec_x";
    expectTypeOf(verifyKallimaWebhook).returns.toEqualTypeOf<Type<CanActivate>>();
    // Checked, not run: the last two throw invalid_option at run time.
    const _unused = () => {
      verifyKallimaWebhook({ secret: (context) => String(context.request.headers.host) });
      // @ts-expect-error verify-only: no handlers
      verifyKallimaWebhook({ secret, on: { "job.completed": () => {} } });
      // @ts-expect-error verify-only: no deduplication
      verifyKallimaWebhook({ secret, idempotency: false });
    };
  });
});
