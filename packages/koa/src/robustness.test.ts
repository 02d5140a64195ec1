import {
  BOUNDED_READ_BYTES,
  exchange,
  RawClient,
  runNodeRobustnessSuite,
  uploadPastLimit,
  watchProcessErrors,
} from "@kallima/webhooks-conformance/node-robustness";
import Router from "@koa/router";
import type Koa from "koa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createWebhookHandler,
  kallimaWebhooks,
  verifyKallimaWebhook,
  type WebhookHandler,
} from "./index.js";
import { frameworks, type ListeningApp, listen, SECRET } from "./test-support.js";
import { jobCompletedEvent, signPayload } from "./testing.js";

const ROUTE = "/kallima-events";

for (const [name, KoaApp] of frameworks) {
  runNodeRobustnessSuite(`${name}, kallimaWebhooks on @koa/router`, {
    bodyReader: "core",
    repeatedHeaders: "refused",
    after413: "closed",
    async start({ requestTimeoutMs, ...options }) {
      const app = new KoaApp();
      const router = new Router();
      router.all(ROUTE, kallimaWebhooks({ ...options, logger: false }));
      app.use(router.routes());
      return { ...(await listen(app, requestTimeoutMs)), path: ROUTE };
    },
  });

  describe(`${name}, raw sockets`, () => {
    const open: ListeningApp[] = [];
    let watch: ReturnType<typeof watchProcessErrors>;
    beforeEach(() => {
      watch = watchProcessErrors();
    });
    afterEach(async () => {
      for (const app of open.splice(0)) await app.close();
      expect(await watch.stop()).toEqual([]);
    });

    /** Starts the answer itself when asked to: what a misbehaving earlier middleware does. */
    const flushWhenAsked: Koa.Middleware = async (ctx, next) => {
      if (ctx.get("x-flush-first")) ctx.res.flushHeaders();
      await next();
    };
    const FLUSH: [string, string] = ["X-Flush-First", "1"];

    async function serve(...middleware: Koa.Middleware[]) {
      const app = new KoaApp();
      for (const each of middleware) app.use(each);
      app.use((ctx) => {
        ctx.body = { reached: true };
      });
      const running = await listen(app);
      open.push(running);
      return { ...running, path: ROUTE };
    }

    async function signedLines() {
      const signed = await signPayload({ secret: SECRET, payload: jobCompletedEvent() });
      return { headers: Object.entries(signed.headers), body: Buffer.from(signed.body) };
    }

    it("verifyKallimaWebhook refuses a repeated X-Kallima-Signature; the route never runs", async () => {
      const { port } = await serve(verifyKallimaWebhook({ secret: SECRET, logger: false }));
      const { headers, body } = await signedLines();
      const signature = headers.find(([header]) => header === "x-kallima-signature")!;
      const response = await exchange(port, {
        path: ROUTE,
        headers: [...headers, signature],
        body,
      });
      expect(response.status).toBe(401);
      expect(JSON.parse(response.body)).toMatchObject({ error: { code: "invalid_signature" } });
      const once = await exchange(port, { path: ROUTE, headers, body });
      expect(JSON.parse(once.body)).toEqual({ reached: true });
    });

    it("verifyKallimaWebhook answers 413 to an upload that goes on, and closes the connection", async () => {
      const app = await serve(
        verifyKallimaWebhook({ secret: SECRET, logger: false, maxBodyBytes: 1024 }),
      );
      const { headers } = await signedLines();
      const upload = await uploadPastLimit(app, headers, "chunked");
      expect([upload.response.status, upload.response.headers.connection]).toEqual([413, "close"]);
      expect(await upload.client.closedWithin(3000)).toBe(true);
      expect(upload.serverBytesRead()).toBeLessThan(BOUNDED_READ_BYTES);
      upload.client.socket.destroy();
    });

    it("closes the connection when something else started the answer and the handler fails", async () => {
      let runs = 0;
      const { port } = await serve(
        flushWhenAsked,
        kallimaWebhooks({
          path: ROUTE,
          secret: SECRET,
          logger: false,
          on: {
            "job.completed": () => {
              if (++runs === 1) throw new Error("handler failed after the headers went out");
            },
          },
        }),
      );
      const { headers, body } = await signedLines();
      const client = await RawClient.open(port);
      await client.head("POST", ROUTE, [
        ...headers,
        FLUSH,
        ["Content-Length", String(body.length)],
      ]);
      await client.write(body);
      // The 500 can no longer be sent: a cut connection is what tells Kallima to retry.
      expect(await client.closedWithin(3000)).toBe(true);
      expect(runs).toBe(1);
      const retry = await exchange(port, { path: ROUTE, headers, body });
      expect(JSON.parse(retry.body)).toEqual({ received: true, outcome: "handled" });
    });

    it("throws a broken handler's rejection to Koa's error handling", async () => {
      const real = createWebhookHandler({ secret: SECRET, logger: false });
      let calls = 0;
      const broken: WebhookHandler = {
        ...real,
        handle: (request) =>
          ++calls === 1 ? Promise.reject(new Error("storage exploded")) : real.handle(request),
      };
      const reportErrors: Koa.Middleware = async (ctx, next) => {
        try {
          await next();
        } catch (error) {
          ctx.status = 599;
          ctx.body = { koaError: (error as Error).message };
        }
      };
      const { port } = await serve(reportErrors, kallimaWebhooks(broken, { path: ROUTE }));
      const { headers, body } = await signedLines();
      const failed = await exchange(port, { path: ROUTE, headers, body });
      expect([failed.status, JSON.parse(failed.body)]).toEqual([
        599,
        { koaError: "storage exploded" },
      ]);
      const retry = await exchange(port, { path: ROUTE, headers, body });
      expect([retry.status, JSON.parse(retry.body)]).toMatchObject([200, { received: true }]);
    });
  });
}
