import {
  BOUNDED_READ_BYTES,
  exchange,
  RawClient,
  runNodeRobustnessSuite,
  uploadPastLimit,
  watchProcessErrors,
} from "@kallima/webhooks-conformance/node-robustness";
import type { FastifyInstance } from "fastify";
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

for (const [name, factory] of frameworks) {
  runNodeRobustnessSuite(`${name}, kallimaWebhooks plugin`, {
    bodyReader: "core",
    repeatedHeaders: "refused",
    after413: "closed",
    async start({ requestTimeoutMs, ...options }) {
      const running = await listen(
        (app) => app.register(kallimaWebhooks, { path: ROUTE, ...options, logger: false }),
        requestTimeoutMs,
        factory,
      );
      return { ...running, path: ROUTE };
    },
  });

  runNodeRobustnessSuite(`${name}, verifyKallimaWebhook hook on the app's route`, {
    bodyReader: "core",
    repeatedHeaders: "refused",
    after413: "closed",
    async start({ requestTimeoutMs, on, onError, ...options }) {
      const hook = verifyKallimaWebhook({ ...options, onError, logger: false });
      const seen = new Set<string>();
      const running = await listen(
        (app) => {
          app.post(ROUTE, { preParsing: hook }, async (request) => {
            // The app's own dedupe, which the suite's retry case expects of a receiver.
            const event = request.kallimaEvent!;
            if (seen.has(event.id)) return { received: true, outcome: "duplicate" };
            seen.add(event.id);
            await on["job.completed"](event);
            return { received: true, outcome: "handled" };
          });
        },
        requestTimeoutMs,
        factory,
      );
      return { ...running, path: ROUTE };
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

    /** Starts the answer itself when asked to: what a misbehaving earlier hook does. */
    function flushWhenAsked(app: FastifyInstance) {
      app.addHook("preHandler", async (request, reply) => {
        if (request.headers["x-flush-first"]) reply.raw.flushHeaders();
      });
    }
    const FLUSH: [string, string] = ["X-Flush-First", "1"];

    async function serve(build: (app: FastifyInstance) => unknown) {
      const app = await listen(build, undefined, factory);
      open.push(app);
      return { ...app, path: ROUTE };
    }

    async function signedLines() {
      const signed = await signPayload({ secret: SECRET, payload: jobCompletedEvent() });
      return { headers: Object.entries(signed.headers), body: Buffer.from(signed.body) };
    }

    it("verifyKallimaWebhook answers 413 to an upload that goes on, and closes the connection", async () => {
      const app = await serve((fastify) => {
        fastify.post(
          ROUTE,
          {
            preParsing: verifyKallimaWebhook({ secret: SECRET, logger: false, maxBodyBytes: 1024 }),
          },
          async () => ({ reached: true }),
        );
      });
      const { headers } = await signedLines();
      const upload = await uploadPastLimit(app, headers, "chunked");
      expect([upload.response.status, upload.response.headers.connection]).toEqual([413, "close"]);
      expect(await upload.client.closedWithin(3000)).toBe(true);
      expect(upload.serverBytesRead()).toBeLessThan(BOUNDED_READ_BYTES);
      upload.client.socket.destroy();
    });

    it("closes the connection when something else started the answer and the handler fails", async () => {
      let runs = 0;
      const app = await serve(async (fastify) => {
        flushWhenAsked(fastify);
        await fastify.register(kallimaWebhooks, {
          path: ROUTE,
          secret: SECRET,
          logger: false,
          on: {
            "job.completed": () => {
              if (++runs === 1) throw new Error("handler failed after the headers went out");
            },
          },
        });
      });
      const { headers, body } = await signedLines();
      const client = await RawClient.open(app.port);
      await client.head("POST", ROUTE, [
        ...headers,
        FLUSH,
        ["Content-Length", String(body.length)],
      ]);
      await client.write(body);
      // The 500 can no longer be sent: a cut connection is what tells Kallima to retry.
      expect(await client.closedWithin(3000)).toBe(true);
      expect(runs).toBe(1);
      const retry = await exchange(app.port, { path: ROUTE, headers, body });
      expect(JSON.parse(retry.body)).toEqual({ received: true, outcome: "handled" });
    });

    it("hands a broken handler's rejection to Fastify's error handler", async () => {
      const real = createWebhookHandler({ secret: SECRET, logger: false });
      let calls = 0;
      const broken: WebhookHandler = {
        ...real,
        handle: (request) =>
          ++calls === 1 ? Promise.reject(new Error("storage exploded")) : real.handle(request),
      };
      const app = await serve(async (fastify) => {
        fastify.setErrorHandler(async (error: Error, _request, reply) =>
          reply.code(599).send({ fastifyError: error.message }),
        );
        await fastify.register(kallimaWebhooks, { path: ROUTE, handler: broken });
      });
      const { headers, body } = await signedLines();
      const failed = await exchange(app.port, { path: ROUTE, headers, body });
      expect([failed.status, JSON.parse(failed.body)]).toEqual([
        599,
        { fastifyError: "storage exploded" },
      ]);
      const retry = await exchange(app.port, { path: ROUTE, headers, body });
      expect([retry.status, JSON.parse(retry.body)]).toMatchObject([200, { received: true }]);
    });
  });
}
