// Type tests: `tsc -p tsconfig.json` (the typecheck script) fails if any of these stop holding.
import { getFailureReason, type KallimaEvent, type VerifiedKallimaEvent } from "@kallima/webhooks";
import { Hono } from "hono";
import { describe, expectTypeOf, it } from "vitest";
import {
  isEventType,
  type KallimaWebhookVariables,
  kallimaWebhooks,
  verifyKallimaWebhook,
} from "./index.js";

const secret = "whsec_typeTestSecret_0123456789abcdefghij";

describe("types", () => {
  it("types c.var.kallimaEvent after verifyKallimaWebhook in the same route", () => {
    const app = new Hono();
    app.post("/kallima-events", verifyKallimaWebhook({ secret }), (c) => {
      expectTypeOf(c.var.kallimaEvent).toEqualTypeOf<VerifiedKallimaEvent>();
      expectTypeOf(c.get("kallimaEvent")).toEqualTypeOf<VerifiedKallimaEvent>();
      const event = c.var.kallimaEvent;
      if (isEventType(event, "job.failed")) {
        expectTypeOf(event).toEqualTypeOf<KallimaEvent<"job.failed">>();
        expectTypeOf(getFailureReason(event.data).message).toEqualTypeOf<string>();
      }
      if (isEventType(event, "job.completed")) {
        expectTypeOf(event.data.status).toEqualTypeOf<"completed">();
      }
      return c.body(null, 204);
    });
  });

  it("types it through Variables for apps declared with KallimaWebhookVariables", () => {
    const app = new Hono<{ Variables: KallimaWebhookVariables }>();
    app.use("/kallima-events", verifyKallimaWebhook({ secret }));
    app.post("/kallima-events", (c) => {
      expectTypeOf(c.var.kallimaEvent.id).toEqualTypeOf<string>();
      return c.body(null, 204);
    });
  });

  it("does not invent the variable on routes without the middleware", () => {
    const app = new Hono();
    app.post("/elsewhere", (c) => {
      // @ts-expect-error kallimaEvent is only set by verifyKallimaWebhook
      void c.var.kallimaEvent.id;
      return c.body(null, 204);
    });
  });

  it("types a secret function against the app's bindings", () => {
    type Env = { Bindings: { KALLIMA_WEBHOOK_SECRET: string; OTHER: number } };
    kallimaWebhooks<Env>({
      secret: (c) => {
        expectTypeOf(c.env.KALLIMA_WEBHOOK_SECRET).toEqualTypeOf<string>();
        return c.env.KALLIMA_WEBHOOK_SECRET;
      },
    });
    // @ts-expect-error a secret must be a string or a list of strings
    kallimaWebhooks<Env>({ secret: (c) => c.env.OTHER });
    kallimaWebhooks({
      secret,
      on: {
        "job.completed": (event) => {
          expectTypeOf(event).toEqualTypeOf<KallimaEvent<"job.completed">>();
        },
      },
    });
  });
});
