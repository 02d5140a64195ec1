import type { KallimaEvent as CoreKallimaEvent } from "@kallima/webhooks";
import { Injectable } from "@nestjs/common";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  type KallimaEvent,
  KallimaWebhooksModule,
  OnKallimaEvent,
  type VerifiedKallimaEvent,
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
});
