import { describe, expect, expectTypeOf, it } from "vitest";
import {
  createWebhookHandler,
  type EventHandlers,
  getFailureReason,
  type HumanizationResults,
  isEventType,
  type KallimaEvent,
  type KallimaEventType,
  type KallimaProblem,
  type UnknownEventTypes,
  type UnknownKallimaEvent,
  type VerifiedKallimaEvent,
  type WebhookResult,
} from "./index.js";

// These assertions are checked by `tsc` (pnpm typecheck); at run time they are no-ops.
describe("event types", () => {
  it("types handlers by event type", () => {
    createWebhookHandler({
      secret: "whsec_x",
      on: {
        "job.completed": (event) => {
          expectTypeOf(event).toEqualTypeOf<KallimaEvent<"job.completed">>();
          expectTypeOf(event.data.status).toEqualTypeOf<"completed">();
          expectTypeOf(event.data.id).toBeString();
        },
        "job.failed": (event) => {
          expectTypeOf(event.data.error_message).toEqualTypeOf<string | null | undefined>();
          expectTypeOf(event.data.error).toEqualTypeOf<KallimaProblem | null | undefined>();
          expectTypeOf(getFailureReason(event.data).message).toBeString();
          expectTypeOf(event.data.job_type).toExtend<string | undefined>();
          // @ts-expect-error a typo in a data field fails to compile (no catch-all index signature)
          void event.data.eror;
        },
        "humanization.completed": (event) => {
          expectTypeOf(event.data.object).toEqualTypeOf<"humanization">();
          expectTypeOf(event.data.results).toEqualTypeOf<HumanizationResults>();
          expectTypeOf(event.data.results.humanness).toBeUnknown();
        },
        "structure_prediction.failed": (event) => {
          expectTypeOf(event.data.status).toEqualTypeOf<"failed">();
          expectTypeOf(getFailureReason(event.data).code).toEqualTypeOf<string | undefined>();
        },
        "webhook.test": (event) => {
          expectTypeOf(event.data.webhook_id).toBeString();
          // @ts-expect-error webhook.test events carry no error
          void event.data.error.code;
        },
      },
    })
      .on("job.failed", (event) => expectTypeOf(event.type).toEqualTypeOf<"job.failed">())
      // @ts-expect-error unknown types need onUnhandled or a KallimaEventMap augmentation
      .on("job.exploded", () => {});
  });

  it("names an unknown key of on: in plain words", () => {
    createWebhookHandler({
      secret: "whsec_typo",
      on: {
        // @ts-expect-error '"job.complete" is not a Kallima event type: fix the spelling, …'
        "job.complete": () => {},
      },
    });
    type Message = UnknownEventTypes<{ "job.complete": unknown }>["job.complete"];
    expectTypeOf<Message>().toEqualTypeOf<'"job.complete" is not a Kallima event type: fix the spelling, handle it in onUnhandled, or add it to KallimaEventMap'>();
  });

  it("rejects a typo in the handler map", () => {
    const handlers: EventHandlers = {
      // @ts-expect-error "job.complete" is not an event type
      "job.complete": () => {},
    };
    void handlers;
  });

  it("narrows verified events with isEventType and the type field", () => {
    const event = {} as VerifiedKallimaEvent;
    if (isEventType(event, "job.failed")) {
      expectTypeOf(event).toEqualTypeOf<KallimaEvent<"job.failed">>();
    }
    expectTypeOf<KallimaEventType>().toEqualTypeOf<
      | "job.completed"
      | "job.failed"
      | "webhook.test"
      | "humanization.completed"
      | "humanization.failed"
      | "structure_prediction.completed"
      | "structure_prediction.failed"
    >();
    expectTypeOf<UnknownKallimaEvent["data"]>().toBeUnknown();
    expectTypeOf<WebhookResult["event"]>().toEqualTypeOf<VerifiedKallimaEvent | undefined>();
  });
});

describe("handler context", () => {
  it("types the second handler argument by the handler's context", async () => {
    interface WorkerContext {
      env: { DB: string };
    }
    const seen: string[] = [];
    const handler = createWebhookHandler<WorkerContext>({
      secret: "whsec_contextTypeTest0000000000000000000",
      on: {
        "job.completed": (event, context) => {
          expectTypeOf(context).toEqualTypeOf<WorkerContext>();
          seen.push(`${event.id}@${context.env.DB}`);
        },
      },
    });
    handler.on("job.failed", (_event, context) => {
      // @ts-expect-error the context has no such binding
      void context.env.KV;
    });
    expectTypeOf(handler.fetch).parameter(1).toEqualTypeOf<WorkerContext | undefined>();
    expect(seen).toEqual([]);
  });
});
