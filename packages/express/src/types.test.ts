import {
  getFailureReason,
  isEventType,
  type KallimaEvent,
  type VerifiedKallimaEvent,
} from "@kallima/webhooks";
import express, { type RequestHandler } from "express";
import { describe, expect, expectTypeOf, it } from "vitest";
import { kallimaWebhooks, verify, verifyKallimaWebhook } from "./index.js";

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

  it("refuses handlers in verify-only options", () => {
    // @ts-expect-error verifyKallimaWebhook never runs `on` handlers (it also throws at run time)
    expect(() => verifyKallimaWebhook({ secret: "whsec_types", on: {} })).toThrow();
    verifyKallimaWebhook({ secret: ["whsec_old", "whsec_new"], toleranceSeconds: 60 });
  });

  it("fits body-parser's verify option", () => {
    express.json({ verify });
    express.text({ verify });
    express.urlencoded({ extended: false, verify });
  });
});
