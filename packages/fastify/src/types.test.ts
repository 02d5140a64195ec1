import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  createWebhookHandler,
  type FastifyWebhookContext,
  getFailureReason,
  isEventType,
  type KallimaEvent,
  kallimaWebhooks,
  type VerifiedKallimaEvent,
  verifyKallimaWebhook,
} from "./index.js";

// Checked by `tsc` (pnpm typecheck); at run time these assertions are no-ops.
describe("types", () => {
  it("types the plugin's handlers by event type, with { request, reply } as their context", () => {
    // Never called: the registrations below are checked by the compiler, not loaded.
    const registrations = async (app: FastifyInstance) => {
      await app.register(kallimaWebhooks, {
        path: "/kallima-events",
        secret: (context) => {
          expectTypeOf(context).toEqualTypeOf<FastifyWebhookContext>();
          return "whsec_types";
        },
        on: {
          "job.completed": async (event, { request, reply }) => {
            expectTypeOf(event).toEqualTypeOf<KallimaEvent<"job.completed">>();
            expectTypeOf(request).toEqualTypeOf<FastifyRequest>();
            expectTypeOf(reply).toEqualTypeOf<FastifyReply>();
          },
          "job.failed": async (event) => {
            expectTypeOf(getFailureReason(event.data).message).toBeString();
          },
          // @ts-expect-error a typo in an event type is caught
          "job.complete": () => {},
        },
      });
      // @ts-expect-error the route needs its path
      await app.register(kallimaWebhooks, { secret: "whsec_types" });
      await app.register(kallimaWebhooks, {
        path: "/typed-handler",
        handler: createWebhookHandler<FastifyWebhookContext>({ secret: "whsec_types" }),
        otherMethods: "leave",
      });
      await app.register(kallimaWebhooks, {
        path: "/x",
        handler: createWebhookHandler({ secret: "whsec_a" }),
        // @ts-expect-error a handler and handler options do not mix
        secret: "whsec_b",
      });
    };
    expectTypeOf(registrations).parameter(0).toEqualTypeOf<FastifyInstance>();
    expect(Fastify().hasPlugin).toBeTypeOf("function");
  });

  it("types request.kallimaEvent in routes behind the verify-only hook", () => {
    const app = Fastify();
    app.post<{ Body: { id: string } }>(
      "/kallima-events",
      { preParsing: verifyKallimaWebhook({ secret: "whsec_types" }) },
      async (request) => {
        expectTypeOf(request.kallimaEvent).toEqualTypeOf<VerifiedKallimaEvent | undefined>();
        expectTypeOf(request.body.id).toBeString();
        const event = request.kallimaEvent!;
        if (isEventType(event, "job.completed")) expectTypeOf(event.data.id).toBeString();
        return { received: true };
      },
    );
    // @ts-expect-error the verify-only hook takes no handlers
    expect(() => verifyKallimaWebhook({ secret: "whsec_types", on: {} })).toThrow(/only verifies/);
  });
});
