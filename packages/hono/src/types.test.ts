// Type tests: `tsc -p tsconfig.json` (the typecheck script) fails if any of these stop holding.
import { type Context, Hono, type Env as HonoEnv } from "hono";
import { describe, expectTypeOf, it } from "vitest";
import {
  createWebhookHandler,
  getFailureReason,
  isEventType,
  type KallimaEvent,
  type KallimaHonoOptions,
  type KallimaWebhookVariables,
  kallimaWebhooks,
  type UnknownEventTypes,
  type VerifiedKallimaEvent,
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

  it("names an unknown key of on: in plain words", () => {
    kallimaWebhooks({
      secret,
      on: {
        // @ts-expect-error '"job.complete" is not a Kallima event type: fix the spelling, …'
        "job.complete": () => {},
      },
    });
    type Env = { Bindings: { DB_NAME: string } };
    kallimaWebhooks<Env>({
      secret,
      on: {
        // @ts-expect-error with an explicit environment the typo is still refused
        "job.complete": () => {},
      },
    });
    type Message = UnknownEventTypes<{ "job.complete": unknown }>["job.complete"];
    expectTypeOf<Message>().toEqualTypeOf<'"job.complete" is not a Kallima event type: fix the spelling, handle it in onUnhandled, or add it to KallimaEventMap'>();
  });

  it("takes options built ahead as KallimaHonoOptions", () => {
    type Env = { Bindings: { DB_NAME: string } };
    const options: KallimaHonoOptions<Env> = {
      secret,
      on: { "job.completed": (_event, c) => expectTypeOf(c.env.DB_NAME).toEqualTypeOf<string>() },
    };
    new Hono<Env>().all("/kallima-events", kallimaWebhooks(options));
    kallimaWebhooks<Env>(options);
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

  it("types the handlers' second argument and the secret function's as Hono's context", () => {
    type Env = { Bindings: { KALLIMA_WEBHOOK_SECRET: string; DB_NAME: string } };
    const app = new Hono<Env>();
    app.all(
      "/kallima-events",
      kallimaWebhooks<Env>({
        secret: (c) => {
          expectTypeOf(c).toEqualTypeOf<Context<Env>>();
          return c.env.KALLIMA_WEBHOOK_SECRET;
        },
        on: {
          "job.completed": (event, c) => {
            expectTypeOf(event).toEqualTypeOf<KallimaEvent<"job.completed">>();
            expectTypeOf(c).toEqualTypeOf<Context<Env>>();
            expectTypeOf(c.env.DB_NAME).toEqualTypeOf<string>();
          },
        },
        onUnhandled: (event, c) => {
          expectTypeOf(event).toEqualTypeOf<VerifiedKallimaEvent>();
          expectTypeOf(c).toEqualTypeOf<Context<Env>>();
        },
      }),
    );
    // Without an environment, c is the context of Hono's base Env.
    kallimaWebhooks({
      secret,
      on: { "webhook.test": (_event, c) => expectTypeOf(c).toEqualTypeOf<Context<HonoEnv>>() },
    });
  });

  it("takes a handler made with createWebhookHandler, typed for Hono's context or for none", () => {
    type Env = { Bindings: { DB_NAME: string } };
    const typed = createWebhookHandler<Context<Env>>({
      secret,
      on: { "job.completed": (_event, c) => expectTypeOf(c.env.DB_NAME).toEqualTypeOf<string>() },
    });
    new Hono<Env>().all("/kallima-events", kallimaWebhooks<Env>(typed));
    new Hono().all("/kallima-events", kallimaWebhooks(createWebhookHandler({ secret })));
  });

  it("refuses handler options in verify-only mode", () => {
    // Not called: they would also throw at run time (invalid_option).
    void (() => {
      // @ts-expect-error verify-only mode runs no handlers: `on` belongs to kallimaWebhooks
      verifyKallimaWebhook({ secret, on: { "job.completed": () => {} } });
      // @ts-expect-error nor does it deduplicate
      verifyKallimaWebhook({ secret, idempotency: false });
    });
    verifyKallimaWebhook({ secret, logger: false, maxBodyBytes: 4096 });
  });

  it("takes the core's logger option", () => {
    kallimaWebhooks({ secret, logger: false });
    kallimaWebhooks({ secret, logger: console });
    // @ts-expect-error a logger has error() and warn()
    kallimaWebhooks({ secret, logger: { info() {} } });
  });
});
