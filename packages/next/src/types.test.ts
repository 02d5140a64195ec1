// Type tests: checked by `tsc -p tsconfig.json` (vitest only runs the assertions' empty bodies).
import type { NextApiHandler } from "next";
import type { NextRequest } from "next/server";
import { describe, expectTypeOf, it } from "vitest";
import {
  createWebhookHandler,
  type KallimaRouteContext,
  type KallimaWebhookVerification,
  kallimaWebhooks,
  type NextRouteParams,
  type UnknownEventTypes,
  type VerifiedKallimaEvent,
  verifyKallimaWebhook,
} from "./index.js";
import * as pages from "./pages.js";

const secret = "whsec_typeTests_0123456789abcdef0123456789";

// What Next.js 16 checks a route's exports against (its generated .next/types/validator.ts).
type NextRouteExport<Params> = (
  request: NextRequest,
  context: { params: Promise<Params> },
) => Promise<Response | undefined> | Response | undefined;

describe("App Router types", () => {
  it("types handlers' and the secret function's context as { request, params }", () => {
    kallimaWebhooks({
      secret: (context) => {
        expectTypeOf(context).toEqualTypeOf<KallimaRouteContext<NextRouteParams>>();
        return secret;
      },
      on: {
        "job.completed": (event, context) => {
          expectTypeOf(event.data.id).toBeString();
          expectTypeOf(context.request).toEqualTypeOf<Request>();
          expectTypeOf(context.params).toEqualTypeOf<Promise<NextRouteParams>>();
        },
      },
    });
    kallimaWebhooks<{ tenant: string }>({
      secret: async ({ params }) => {
        expectTypeOf((await params).tenant).toBeString();
        return secret;
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
    kallimaWebhooks<{ tenant: string }>({
      secret,
      on: {
        // @ts-expect-error with explicit params the typo is still refused
        "job.complete": () => {},
      },
    });
    type Message = UnknownEventTypes<{ "job.complete": unknown }>["job.complete"];
    expectTypeOf<Message>().toEqualTypeOf<'"job.complete" is not a Kallima event type: fix the spelling, handle it in onUnhandled, or add it to KallimaEventMap'>();
  });

  it("takes a handler made with createWebhookHandler, typed for the route's context or for none", () => {
    const typed = createWebhookHandler<KallimaRouteContext<{ tenant: string }>>({ secret }).on(
      "job.completed",
      (_event, { params }) => expectTypeOf(params).toEqualTypeOf<Promise<{ tenant: string }>>(),
    );
    expectTypeOf(kallimaWebhooks(typed)).toExtend<NextRouteExport<{ tenant: string }>>();
    expectTypeOf(kallimaWebhooks(createWebhookHandler({ secret }))).toExtend<
      NextRouteExport<{ tenant: string }>
    >();
  });

  it("gives a route handler Next.js accepts as an export, static or dynamic", () => {
    const POST = kallimaWebhooks({ secret });
    // biome-ignore lint/complexity/noBannedTypes: what Next.js generates for a route without params.
    expectTypeOf(POST).toExtend<NextRouteExport<{}>>();
    expectTypeOf(POST).toExtend<NextRouteExport<{ tenant: string }>>();
    expectTypeOf(POST).toExtend<NextRouteExport<{ path: string[] }>>();
    expectTypeOf(kallimaWebhooks<{ tenant: string }>({ secret })).toExtend<
      NextRouteExport<{ tenant: string }>
    >();
    // Next.js 15's build check (webpack): the second parameter's own type, undefined excluded.
    expectTypeOf<Parameters<typeof POST>[1]>().toExtend<{ params: Promise<unknown> }>();
  });

  it("gives verify-only an outcome whose failure is a Response to return", () => {
    expectTypeOf(verifyKallimaWebhook).returns.toEqualTypeOf<Promise<KallimaWebhookVerification>>();
    const narrow = (verified: KallimaWebhookVerification) => {
      if (verified.ok) expectTypeOf(verified.event).toEqualTypeOf<VerifiedKallimaEvent>();
      else expectTypeOf(verified.response).toEqualTypeOf<Response>();
    };
    expectTypeOf(narrow).toBeFunction();
  });

  it("refuses handler options in verify-only mode", () => {
    // Never called: the compiler checks the calls.
    const calls = (request: Request) => [
      verifyKallimaWebhook(request, { secret }),
      // @ts-expect-error verify-only takes no handlers: the route handles the event.
      verifyKallimaWebhook(request, { secret, on: {} }),
    ];
    expectTypeOf(calls).toBeFunction();
  });
});

describe("Pages Router types", () => {
  it("types handlers' and the secret function's context as { req, res }", () => {
    pages.kallimaWebhooks({
      secret: (context) => {
        expectTypeOf(context).toEqualTypeOf<pages.KallimaPagesContext>();
        return secret;
      },
      on: {
        "job.failed": (_event, { req, res }) => {
          expectTypeOf(req.query).toEqualTypeOf<Partial<Record<string, string | string[]>>>();
          expectTypeOf(res.status).toBeFunction();
        },
      },
    });
  });

  it("names an unknown key of on: in plain words", () => {
    pages.kallimaWebhooks({
      secret,
      on: {
        // @ts-expect-error '"job.complete" is not a Kallima event type: fix the spelling, …'
        "job.complete": () => {},
      },
    });
    type Message = UnknownEventTypes<{ "job.complete": unknown }>["job.complete"];
    expectTypeOf<Message>().toEqualTypeOf<'"job.complete" is not a Kallima event type: fix the spelling, handle it in onUnhandled, or add it to KallimaEventMap'>();
  });

  it("takes a handler made with createWebhookHandler, typed for { req, res } or for none", () => {
    const typed = createWebhookHandler<pages.KallimaPagesContext>({ secret }).on(
      "job.completed",
      (_event, { res }) => expectTypeOf(res.status).toBeFunction(),
    );
    expectTypeOf(pages.kallimaWebhooks(typed)).toExtend<NextApiHandler>();
    expectTypeOf(
      pages.kallimaWebhooks(createWebhookHandler({ secret })),
    ).toExtend<NextApiHandler>();
  });

  it("gives an API route, and the same names as the App Router entry", () => {
    expectTypeOf(pages.kallimaWebhooks({ secret })).toExtend<NextApiHandler>();
    expectTypeOf(pages.kallimaPagesWebhooks).toEqualTypeOf(pages.kallimaWebhooks);
    expectTypeOf(pages.verifyKallimaWebhook).returns.toEqualTypeOf<
      Promise<VerifiedKallimaEvent | undefined>
    >();
    expectTypeOf(pages.verifyKallimaWebhook).parameter(2).not.toHaveProperty("on");
  });
});
