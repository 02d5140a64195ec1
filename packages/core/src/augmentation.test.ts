import {
  createWebhookHandler,
  type KallimaEvent,
  type KallimaEventType,
  type ProductEvents,
} from "@kallima/webhooks";
import { describe, expect, expectTypeOf, it } from "vitest";

// A user's module augmentation, written against the published package (its built .d.ts).
declare module "@kallima/webhooks" {
  interface KallimaEventMap extends ProductEvents<"stability", { score: number }> {
    "variant.created": { id: string; text_url: string };
  }
  // The documented escape hatch for a field Kallima ships before this library types it.
  interface JobCompletedData {
    gpu_seconds?: number;
  }
}

describe("KallimaEventMap augmentation", () => {
  it("adds a type that handlers and KallimaEvent know", async () => {
    expectTypeOf<
      "variant.created" | "stability.completed" | "stability.failed"
    >().toExtend<KallimaEventType>();
    expectTypeOf<KallimaEvent<"variant.created">["data"]["text_url"]>().toBeString();
    expectTypeOf<KallimaEvent<"stability.completed">["data"]["results"]["score"]>().toBeNumber();
    expectTypeOf<KallimaEvent<"job.completed">["data"]["gpu_seconds"]>().toEqualTypeOf<
      number | undefined
    >();
    const handler = createWebhookHandler({
      secret: "whsec_augmentation0000000000000000000000",
      on: {
        "variant.created": (event) => {
          expectTypeOf(event.data.text_url).toBeString();
          // @ts-expect-error the augmented data has no status
          void event.data.status;
        },
      },
    });
    expect(typeof handler.handle).toBe("function");
  });
});
