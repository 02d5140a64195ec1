import {
  type ConformanceApp,
  type ConformanceRequest,
  type ConformanceTarget,
  expectExportParity,
  fromFetchResponse,
  runConformanceSuite,
} from "@kallima/webhooks-conformance";
import { bodyParser as koaBodyParser } from "@koa/bodyparser";
import Router from "@koa/router";
import type Koa from "koa";
import bodyParser from "koa-bodyparser";
import { expect, it } from "vitest";
import {
  type KallimaKoaVerifyOptions,
  type KallimaWebhooksOptions,
  kallimaWebhooks,
  verifyKallimaWebhook,
} from "./index.js";
import { frameworks, listen } from "./test-support.js";

const ROUTE = "/kallima-events";

async function serve(app: Koa): Promise<ConformanceApp> {
  const running = await listen(app);
  return {
    send: async ({ method = "POST", headers, body }: ConformanceRequest) =>
      fromFetchResponse(await fetch(`${running.url}${ROUTE}`, { method, headers, body })),
    close: () => running.close(),
  };
}

/** Koa's `ctx` of one request: its own request and response, as Koa made them. */
function isKoaContext(context: unknown): boolean {
  const ctx = context as Partial<Koa.Context> | undefined;
  return (
    ctx !== undefined &&
    ctx.request !== undefined &&
    ctx.request.ctx === ctx &&
    ctx.response?.ctx === ctx &&
    ctx.req === ctx.request.req &&
    ctx.path === ROUTE &&
    typeof ctx.app?.callback === "function" &&
    typeof ctx.state === "object"
  );
}

/** The verify-only middleware in front of the app's own route, for every method. */
function verifyOnly(KoaApp: (typeof frameworks)[number][1], options: Record<string, unknown>) {
  const verifier = verifyKallimaWebhook(options as KallimaKoaVerifyOptions);
  const app = new KoaApp();
  const router = new Router();
  router.all(ROUTE, verifier, (ctx) => {
    ctx.body = { verified: ctx.state.kallimaEvent.id };
  });
  app.use(router.routes());
  return serve(app);
}

/** Middleware ahead of the webhook one: none, or a body parser that keeps the text it read. */
const parsers: Array<[string, () => Koa.Middleware | undefined]> = [
  ["no body parser", () => undefined],
  ["koa-bodyparser first", () => bodyParser()],
  ["@koa/bodyparser first", () => koaBodyParser() as Koa.Middleware],
];

for (const [name, KoaApp] of frameworks) {
  for (const [parserName, parser] of parsers) {
    const target: ConformanceTarget = {
      // The body parsers answer a malformed JSON body (400) themselves before the webhook runs.
      frameworkRejectsMalformedJson: parserName !== "no body parser",
      // router.all(): every method reaches the middleware, and the core answers all but POST 405.
      async setup(options) {
        const app = new KoaApp();
        const before = parser();
        if (before) app.use(before);
        const router = new Router();
        router.all(ROUTE, kallimaWebhooks(options as KallimaWebhooksOptions));
        app.use(router.routes());
        return serve(app);
      },
      contract: {
        isFrameworkContext: isKoaContext,
        setupVerifyOnly: (options) => verifyOnly(KoaApp, options),
      },
    };
    runConformanceSuite(`${name}, @koa/router, ${parserName}`, target);
  }

  runConformanceSuite(`${name}, app.use() with a path`, {
    async setup(options) {
      const app = new KoaApp();
      app.use(kallimaWebhooks({ ...(options as KallimaWebhooksOptions), path: ROUTE }));
      return serve(app);
    },
  });
}

it("re-exports the core's whole surface, so that apps install and import one package", async () => {
  expectExportParity(await import("./index.js"), await import("@kallima/webhooks"));
  const testing = await import("@kallima/webhooks/testing");
  const ours: Record<string, unknown> = await import("./testing.js");
  expect(
    Object.keys(testing).filter((key) => ours[key] !== testing[key as keyof typeof testing]),
  ).toEqual([]);
});
