import { createWebhookHandler, type KallimaEvent, type KallimaEventType } from "@kallima/webhooks";
import { describe, expect, expectTypeOf, it } from "vitest";

// A user's module augmentation, written against the published package (its built .d.ts).
declare module "@kallima/webhooks" {
  interface KallimaEventMap {
    "humanization.completed": { id: string; text_url: string };
  }
}

describe("KallimaEventMap augmentation", () => {
  it("adds a type that handlers and KallimaEvent know", async () => {
    expectTypeOf<KallimaEventType>().toEqualTypeOf<
      "job.completed" | "job.failed" | "webhook.test" | "humanization.completed"
    >();
    expectTypeOf<KallimaEvent<"humanization.completed">["data"]["text_url"]>().toBeString();
    const handler = createWebhookHandler({
      secret: "whsec_augmentation0000000000000000000000",
      on: {
        "humanization.completed": (event) => {
          expectTypeOf(event.data.text_url).toBeString();
          // @ts-expect-error the augmented data has no status
          void event.data.status;
        },
      },
    });
    expect(typeof handler.handle).toBe("function");
  });
});
