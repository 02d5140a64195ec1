import Router from "@koa/router";
import Koa, { type Context, type Middleware } from "koa";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  createWebhookHandler,
  getFailureReason,
  isEventType,
  type KallimaEvent,
  type KallimaWebhookState,
  type KoaWebhookContext,
  kallimaWebhooks,
  type VerifiedKallimaEvent,
  verifyKallimaWebhook,
} from "./index.js";

// Checked by `tsc` (pnpm typecheck); at run time these assertions are no-ops.
describe("types", () => {
  it("types the handlers by event type, with Koa's ctx as their context", () => {
    const middleware = kallimaWebhooks({
      secret: (ctx) => {
        expectTypeOf(ctx).toEqualTypeOf<KoaWebhookContext>();
        return "whsec_types";
      },
      on: {
        "job.completed": async (event, ctx) => {
          expectTypeOf(event).toEqualTypeOf<KallimaEvent<"job.completed">>();
          expectTypeOf(ctx).toEqualTypeOf<Context>();
        },
        "job.failed": async (event) => {
          expectTypeOf(getFailureReason(event.data).message).toBeString();
        },
        // @ts-expect-error a typo in an event type is caught
        "job.complete": () => {},
      },
    });
    expectTypeOf(middleware).toEqualTypeOf<Middleware>();
    new Koa().use(middleware);
    new Router().all("/kallima-events", middleware);
    kallimaWebhooks(createWebhookHandler<KoaWebhookContext>({ secret: "whsec_types" }), {
      otherMethods: "next",
    });
  });

  it("types ctx.state.kallimaEvent in the route after the verify-only middleware", () => {
    const router = new Router();
    router.post("/kallima-events", verifyKallimaWebhook({ secret: "whsec_types" }), (ctx) => {
      expectTypeOf(ctx.state.kallimaEvent).toEqualTypeOf<VerifiedKallimaEvent>();
      const event = ctx.state.kallimaEvent;
      if (isEventType(event, "job.completed")) expectTypeOf(event.data.id).toBeString();
      ctx.body = { received: true };
    });
    expectTypeOf(verifyKallimaWebhook({ secret: "whsec_types" })).toEqualTypeOf<
      Middleware<KallimaWebhookState>
    >();
    // @ts-expect-error the verify-only middleware takes no handlers
    expect(() => verifyKallimaWebhook({ secret: "whsec_types", on: {} })).toThrow(/only verifies/);
  });
});
