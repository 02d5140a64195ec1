import express, { type Request, type RequestHandler, type Response } from "express";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  createWebhookHandler,
  type ExpressWebhookContext,
  getFailureReason,
  isEventType,
  type KallimaEvent,
  type KallimaWebhooksOptions,
  kallimaWebhooks,
  type UnknownEventTypes,
  type VerifiedKallimaEvent,
  verify,
  verifyKallimaWebhook,
} from "./index.js";

// Checked by `tsc` (pnpm typecheck); at run time these assertions are no-ops.
describe("types", () => {
  it("types the handlers by event type and returns an Express RequestHandler", () => {
    const middleware = kallimaWebhooks({
      secret: "whsec_types",
      on: {
        "job.completed": async (event) => {
          expectTypeOf(event).toEqualTypeOf<KallimaEvent<"job.completed">>();
          expectTypeOf(event.data.id).toBeString();
        },
        "job.failed": async (event) => {
          expectTypeOf(getFailureReason(event.data).message).toBeString();
        },
        // @ts-expect-error a typo in an event type is caught
        "job.complete": () => {},
      },
    });
    expectTypeOf(middleware).toEqualTypeOf<RequestHandler>();
  });

  it("names an unknown key of on: in plain words", () => {
    kallimaWebhooks({
      secret: "whsec_typo",
      on: {
        // @ts-expect-error '"job.complete" is not a Kallima event type: fix the spelling, …'
        "job.complete": () => {},
      },
    });
    type Message = UnknownEventTypes<{ "job.complete": unknown }>["job.complete"];
    expectTypeOf<Message>().toEqualTypeOf<'"job.complete" is not a Kallima event type: fix the spelling, handle it in onUnhandled, or add it to KallimaEventMap'>();
  });

  it("takes options built ahead as KallimaWebhooksOptions", () => {
    const options: KallimaWebhooksOptions = {
      secret: "whsec_types",
      on: { "job.completed": (_event, { req }) => void req.ip },
      otherMethods: "next",
    };
    kallimaWebhooks(options);
  });

  it("gives handlers and a secret function the Express { req, res }", () => {
    kallimaWebhooks({
      secret: (context) => {
        expectTypeOf(context).toEqualTypeOf<ExpressWebhookContext>();
        return context.req.params.tenant === "acme" ? "whsec_acme" : ["whsec_a", "whsec_b"];
      },
      on: {
        "job.completed": (_event, context) => {
          expectTypeOf(context).toEqualTypeOf<ExpressWebhookContext>();
          expectTypeOf(context.req).toEqualTypeOf<Request>();
          expectTypeOf(context.res).toEqualTypeOf<Response>();
        },
      },
      onUnhandled: (_event, { res }) => {
        expectTypeOf(res).toEqualTypeOf<Response>();
      },
    });
    kallimaWebhooks({ secret: async ({ req }) => String(req.headers["x-tenant-secret"]) });
    verifyKallimaWebhook({
      secret: (context) => {
        expectTypeOf(context).toEqualTypeOf<ExpressWebhookContext>();
        return "whsec_types";
      },
    });
  });

  it("takes handlers made with createWebhookHandler, typed with the Express context or not", () => {
    const typed = createWebhookHandler<ExpressWebhookContext>({ secret: "whsec_types" }).on(
      "job.completed",
      (_event, { req }) => {
        expectTypeOf(req).toEqualTypeOf<Request>();
      },
    );
    kallimaWebhooks(typed);
    kallimaWebhooks(createWebhookHandler({ secret: "whsec_types" }), { otherMethods: "next" });
    verifyKallimaWebhook(typed);
  });

  it("types otherMethods", () => {
    kallimaWebhooks({ secret: "whsec_types", otherMethods: "next" });
    kallimaWebhooks({ secret: "whsec_types", otherMethods: "405" });
    // @ts-expect-error only "405" and "next"
    void (() => kallimaWebhooks({ secret: "whsec_types", otherMethods: "passes-on" }));
    // @ts-expect-error verify-only has no otherMethods: mount it with app.post() or app.all()
    void (() => verifyKallimaWebhook({ secret: "whsec_types", otherMethods: "next" }));
  });

  it("types req.kallimaEvent on every Express request", () => {
    const app = express();
    app.post("/kallima-events", verifyKallimaWebhook({ secret: "whsec_types" }), (req, res) => {
      expectTypeOf(req.kallimaEvent).toEqualTypeOf<VerifiedKallimaEvent | undefined>();
      // @ts-expect-error it is undefined on routes without verifyKallimaWebhook: check it first
      void req.kallimaEvent.id;
      const event = req.kallimaEvent!;
      // @ts-expect-error the data of an event of unknown type is not known
      void event.data.error;
      if (isEventType(event, "job.failed")) {
        expectTypeOf(getFailureReason(event.data).message).toBeString();
      }
      res.json({ received: true });
    });
    express.Router().post("/", (req) => {
      expectTypeOf(req.kallimaEvent).toEqualTypeOf<VerifiedKallimaEvent | undefined>();
    });
  });

  it("refuses handler options in verify-only mode", () => {
    // @ts-expect-error verifyKallimaWebhook never runs `on` handlers (it also throws at run time)
    expect(() => verifyKallimaWebhook({ secret: "whsec_types", on: {} })).toThrow();
    // @ts-expect-error nor deduplicates
    expect(() => verifyKallimaWebhook({ secret: "whsec_types", idempotency: false })).toThrow();
    verifyKallimaWebhook({ secret: ["whsec_old", "whsec_new"], toleranceSeconds: 60 });
  });

  it("fits body-parser's verify option", () => {
    express.json({ verify });
    express.text({ verify });
    express.urlencoded({ extended: false, verify });
  });
});
