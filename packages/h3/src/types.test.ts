// Type tests: `tsc -p tsconfig.json` (the typecheck script) fails if any of these stop holding.
// They check against h3 1.x (the `h3` devDependency); tsconfig.h3-v2.json checks the package's
// source and src/types-v2.typecheck.ts against h3 2.
import { createApp, createRouter, defineEventHandler, type H3Event } from "h3";
import { describe, expectTypeOf, it } from "vitest";
import {
  isEventType,
  type KallimaEvent,
  type KallimaH3Options,
  kallimaWebhooks,
  type UnknownEventTypes,
  type VerifiedKallimaEvent,
  verifyKallimaWebhook,
} from "./index.js";

const secret = "whsec_typeTestSecret_0123456789abcdefghij";

describe("types (h3 1.x)", () => {
  it("mounts as an event handler, and hands handlers the H3Event", () => {
    const app = createApp();
    const router = createRouter();
    router.post(
      "/kallima-events",
      kallimaWebhooks({
        secret,
        on: {
          "job.completed": (event, h3Event) => {
            expectTypeOf(event.data.status).toEqualTypeOf<"completed">();
            expectTypeOf(h3Event).toEqualTypeOf<H3Event>();
          },
        },
      }),
    );
    app.use(
      "/kallima-events",
      kallimaWebhooks({ secret: (event) => String(event.path.length > 0 && secret) }),
    );
    app.use(router);
  });

  it("types event.context.kallimaEvent for the handlers after verifyKallimaWebhook", () => {
    defineEventHandler({
      onRequest: [verifyKallimaWebhook({ secret })],
      handler: (event) => {
        expectTypeOf(event.context.kallimaEvent).toEqualTypeOf<VerifiedKallimaEvent | undefined>();
        const kallimaEvent = event.context.kallimaEvent!;
        if (isEventType(kallimaEvent, "job.failed")) {
          expectTypeOf(kallimaEvent).toEqualTypeOf<KallimaEvent<"job.failed">>();
        }
        return null;
      },
    });
  });

  it("names an unknown key of on: in plain words", () => {
    kallimaWebhooks({
      secret,
      on: {
        // @ts-expect-error '"job.complete" is not a Kallima event type: fix the spelling, …'
        "job.complete": () => {},
      },
    });
    type Message = UnknownEventTypes<{ "job.complete": unknown }>["job.complete"];
    expectTypeOf<Message>().toBeString();
  });

  it("takes options built ahead as KallimaH3Options", () => {
    const options: KallimaH3Options = {
      secret,
      on: { "webhook.test": (_event, h3Event) => void h3Event.node.req.url },
    };
    kallimaWebhooks(options);
  });
});
