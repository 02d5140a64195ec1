import { gzipSync } from "node:zlib";
import { CONFORMANCE_SECRET, completed, signDelivery } from "@kallima/webhooks-conformance";
import { bodyParser as koaBodyParser } from "@koa/bodyparser";
import Router from "@koa/router";
import Koa from "koa";
import bodyParser from "koa-bodyparser";
import { afterEach, describe, expect, it } from "vitest";
import { kallimaWebhooks, verifyKallimaWebhook, WebhookConfigError } from "./index.js";
import { frameworks, type ListeningApp, listen } from "./test-support.js";

const ROUTE = "/kallima-events";
const secret = CONFORMANCE_SECRET;

const open: ListeningApp[] = [];
afterEach(async () => {
  for (const app of open.splice(0)) await app.close();
});

async function serve(app: Koa) {
  const running = await listen(app);
  open.push(running);
  return running;
}

interface Answer {
  status: number;
  body: { received?: boolean; outcome?: string; error?: { code: string; message: string } };
}

async function post(url: string, init: RequestInit & { duplex?: "half" }): Promise<Answer> {
  const response = await fetch(`${url}${ROUTE}`, { method: "POST", ...init });
  return { status: response.status, body: (await response.json()) as Answer["body"] };
}

/** The app: a body parser (or not) for every route, the webhook route, and one JSON route of its own. */
function appWith(KoaApp: (typeof frameworks)[number][1], parser?: Koa.Middleware) {
  const ran: string[] = [];
  const app = new KoaApp();
  if (parser) app.use(parser);
  const router = new Router();
  router.all(
    ROUTE,
    kallimaWebhooks({
      secret,
      logger: false,
      on: { "job.completed": (event) => void ran.push(event.id) },
    }),
  );
  router.post("/orders", (ctx) => {
    ctx.body = { parsed: (ctx.request as { body?: unknown }).body ?? null };
  });
  app.use(router.routes());
  return { app, ran };
}

const parsers: Array<[string, () => Koa.Middleware]> = [
  ["koa-bodyparser", () => bodyParser({ enableTypes: ["json", "form", "text"] })],
  [
    "@koa/bodyparser",
    () => koaBodyParser({ enableTypes: ["json", "form", "text"] }) as Koa.Middleware,
  ],
];

for (const [name, KoaApp] of frameworks) {
  describe.each(parsers)(`${name}, with %s run first`, (_parser, parser) => {
    it.each([["application/json"], ["text/plain; charset=utf-8"]])(
      "uses the exact text the parser kept (%s), and the app's own routes still get parsed bodies",
      async (contentType) => {
        const { app, ran } = appWith(KoaApp, parser());
        const { url } = await serve(app);
        const body = completed("evt_koa_kept_é");
        const delivery = signDelivery(body, { secret });
        const answer = await post(url, {
          headers: { ...delivery.headers, "content-type": contentType },
          body: delivery.body,
        });
        expect(answer).toEqual({ status: 200, body: { received: true, outcome: "handled" } });
        expect(ran).toEqual(["evt_koa_kept_é"]);
        const orders = await fetch(`${url}/orders`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: '{"id":7}',
        });
        expect(await orders.json()).toEqual({ parsed: { id: 7 } });
      },
    );

    /** Sends a delivery signed over exactly `bytes`, and expects the coded 500 naming the fix. */
    async function expectUnavailable(init: RequestInit & { duplex?: "half" }, reason: RegExp) {
      const { app, ran } = appWith(KoaApp, parser());
      const { url } = await serve(app);
      const answer = await post(url, init);
      expect([answer.status, answer.body.error?.code]).toEqual([500, "raw_body_unavailable"]);
      expect(answer.body.error?.message).toMatch(reason);
      expect(answer.body.error?.message).toContain("ctx.disableBodyParser = true");
      expect(ran).toEqual([]);
    }

    it("refuses text whose bytes lost a byte-order mark", async () => {
      const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(completed())]);
      const delivery = signDelivery(bytes, { secret });
      await expectUnavailable({ headers: delivery.headers, body: bytes }, /not as many bytes/);
    });

    it("refuses text with bytes that were not UTF-8 (decoded to U+FFFD)", async () => {
      const text = completed().replace("job_1", "job_#");
      const bytes = Buffer.from(text);
      bytes[bytes.indexOf("#")] = 0xff;
      const delivery = signDelivery(bytes, { secret });
      await expectUnavailable({ headers: delivery.headers, body: bytes }, /U\+FFFD/);
    });

    it("refuses text it cannot check: a chunked body with no Content-Length", async () => {
      const delivery = signDelivery(completed(), { secret });
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(delivery.body);
          controller.close();
        },
      });
      await expectUnavailable(
        { headers: delivery.headers, body: stream, duplex: "half" },
        /without a Content-Length/,
      );
    });

    it("refuses text the parser inflated from a gzip body", async () => {
      const delivery = signDelivery(completed(), { secret });
      await expectUnavailable(
        {
          headers: { ...delivery.headers, "content-encoding": "gzip" },
          body: gzipSync(delivery.body),
        },
        /Content-Encoding: gzip/,
      );
    });

    it("reads the stream itself when the parser is told to skip the route (the fix it names)", async () => {
      const ran: string[] = [];
      const app = new KoaApp();
      app.use(async (ctx, next) => {
        if (ctx.path === ROUTE) (ctx as { disableBodyParser?: boolean }).disableBodyParser = true;
        await next();
      });
      app.use(parser());
      app.use(
        kallimaWebhooks({
          path: ROUTE,
          secret,
          logger: false,
          on: { "job.completed": (event) => void ran.push(event.id) },
        }),
      );
      const { url } = await serve(app);
      const bytes = Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from(completed("evt_bom")),
      ]);
      const delivery = signDelivery(bytes, { secret });
      // The exact bytes verify; the BOM then makes it not JSON, which is the core's to say.
      const answer = await post(url, { headers: delivery.headers, body: bytes });
      expect([answer.status, answer.body.error?.code]).toEqual([400, "invalid_payload"]);
      const plain = signDelivery(completed("evt_skipped"), { secret });
      expect((await post(url, { headers: plain.headers, body: plain.body })).status).toBe(200);
      expect(ran).toEqual(["evt_skipped"]);
    });
  });

  describe(`${name}, without a body parser`, () => {
    it("answers the coded 500 when another middleware consumed the stream and kept nothing", async () => {
      const app = new KoaApp();
      app.use(async (ctx, next) => {
        for await (const _chunk of ctx.req) {
          // Read and dropped, as a careless logging middleware would.
        }
        await next();
      });
      app.use(kallimaWebhooks({ path: ROUTE, secret, logger: false }));
      const { url } = await serve(app);
      const delivery = signDelivery(completed(), { secret });
      const answer = await post(url, { headers: delivery.headers, body: delivery.body });
      expect([answer.status, answer.body.error?.code]).toEqual([500, "raw_body_unavailable"]);
      expect(answer.body.error?.message).toContain("before bodyParser()");
    });

    it("uses bytes kept as a Buffer on ctx.request.rawBody", async () => {
      const app = new KoaApp();
      app.use(async (ctx, next) => {
        const chunks: Buffer[] = [];
        for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
        (ctx.request as unknown as { rawBody?: Buffer }).rawBody = Buffer.concat(chunks);
        await next();
      });
      app.use(kallimaWebhooks({ path: ROUTE, secret, logger: false }));
      const { url } = await serve(app);
      const delivery = signDelivery(completed(), { secret });
      expect((await post(url, { headers: delivery.headers, body: delivery.body })).status).toBe(
        200,
      );
    });

    it("with a path, passes other paths on; with otherMethods: next, other methods too", async () => {
      const app = new KoaApp();
      app.use(kallimaWebhooks({ secret, logger: false }, { path: ROUTE, otherMethods: "next" }));
      app.use((ctx) => {
        ctx.body = { next: `${ctx.method} ${ctx.path}` };
      });
      const { url } = await serve(app);
      expect(await (await fetch(`${url}/elsewhere`, { method: "POST" })).json()).toEqual({
        next: "POST /elsewhere",
      });
      expect(await (await fetch(`${url}${ROUTE}`)).json()).toEqual({ next: `GET ${ROUTE}` });
      const delivery = signDelivery(completed(), { secret });
      expect((await post(url, { headers: delivery.headers, body: delivery.body })).status).toBe(
        200,
      );
    });

    it("verify-only leaves the delivery's JSON as ctx.request.body, so a body parser after it skips", async () => {
      const app = new KoaApp();
      const router = new Router();
      router.post(ROUTE, verifyKallimaWebhook({ secret }), bodyParser(), (ctx) => {
        ctx.body = {
          verified: ctx.state.kallimaEvent.id,
          body: (ctx.request as { body?: { id?: string } }).body?.id,
        };
      });
      app.use(router.routes());
      const { url } = await serve(app);
      const delivery = signDelivery(completed("evt_verified_body"), { secret });
      const response = await fetch(`${url}${ROUTE}`, {
        method: "POST",
        headers: delivery.headers,
        body: delivery.body,
      });
      expect(await response.json()).toEqual({
        verified: "evt_verified_body",
        body: "evt_verified_body",
      });
    });
  });
}

describe("mount options", () => {
  it("refuses an unknown otherMethods or a path that is not one", () => {
    expect(() => kallimaWebhooks({ secret, otherMethods: "pass" as never })).toThrow(
      WebhookConfigError,
    );
    expect(() => kallimaWebhooks({ secret, path: "kallima" })).toThrow(/path must be a path/);
  });

  it("works under a router prefix and a nested router", async () => {
    const app = new Koa();
    const inner = new Router();
    inner.all("/events", kallimaWebhooks({ secret, logger: false }));
    const outer = new Router({ prefix: "/hooks" });
    outer.use("/kallima", inner.routes());
    app.use(outer.routes());
    const { url } = await serve(app);
    const delivery = signDelivery(completed(), { secret });
    const response = await fetch(`${url}/hooks/kallima/events`, {
      method: "POST",
      headers: delivery.headers,
      body: delivery.body,
    });
    expect(response.status).toBe(200);
  });
});
