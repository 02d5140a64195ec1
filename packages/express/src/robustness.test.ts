import type { Server } from "node:http";
import {
  BOUNDED_READ_BYTES,
  exchange,
  RawClient,
  runNodeRobustnessSuite,
  uploadPastLimit,
  watchProcessErrors,
} from "@kallima/webhooks-conformance/node-robustness";
import type { ErrorRequestHandler, RequestHandler } from "express";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createWebhookHandler,
  kallimaWebhooks,
  verifyKallimaWebhook,
  type WebhookHandler,
} from "./index.js";
import { close, frameworks, listenWithTimeouts, SECRET } from "./test-support.js";
import { jobCompletedEvent, signPayload } from "./testing.js";

const ROUTE = "/kallima-events";

for (const [name, express] of frameworks) {
  runNodeRobustnessSuite(`${name}, kallimaWebhooks`, {
    bodyReader: "core",
    repeatedHeaders: "refused",
    after413: "closed",
    async start({ requestTimeoutMs, ...options }) {
      const app = express();
      app.all(ROUTE, kallimaWebhooks({ ...options, logger: false }));
      const { server, port } = await listenWithTimeouts(app, requestTimeoutMs);
      return { server, port, path: ROUTE, close: () => close(server) };
    },
  });

  describe(`${name}, raw sockets`, () => {
    const servers: Server[] = [];
    let watch: ReturnType<typeof watchProcessErrors>;
    beforeEach(() => {
      watch = watchProcessErrors();
    });
    afterEach(async () => {
      for (const server of servers.splice(0)) await close(server);
      expect(await watch.stop()).toEqual([]);
    });

    async function serve(...handlers: RequestHandler[]) {
      const app = express();
      app.post(ROUTE, ...handlers, (_req, res) => {
        res.json({ reached: true });
      });
      const reportErrors: ErrorRequestHandler = (error: Error, _req, res, _next) => {
        // Throws ERR_HTTP_HEADERS_SENT once the answer was started: Express must cope.
        res.status(599).json({ nextError: error.message });
      };
      app.use(reportErrors);
      const { server, port } = await listenWithTimeouts(app, 10_000);
      servers.push(server);
      return { server, port, path: ROUTE };
    }

    async function signedLines(timestamp?: number) {
      const signed = await signPayload({
        secret: SECRET,
        payload: jobCompletedEvent(),
        ...(timestamp ? { timestamp } : {}),
      });
      const body = Buffer.from(signed.body);
      return { headers: Object.entries(signed.headers), body };
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

    /** Starts the answer itself when asked to: what a misbehaving earlier middleware does. */
    const flushWhenAsked: RequestHandler = (req, res, next) => {
      if (req.headers["x-flush-first"]) res.flushHeaders();
      next();
    };
    const FLUSH: [string, string] = ["X-Flush-First", "1"];

    it("closes the connection when something else started the answer and the handler fails", async () => {
      let runs = 0;
      const { port } = await serve(
        flushWhenAsked,
        kallimaWebhooks({
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

    it("survives a broken handler that rejects after the answer was started", async () => {
      const real = createWebhookHandler({ secret: SECRET, logger: false });
      let calls = 0;
      const broken: WebhookHandler = {
        ...real,
        handle: (request) =>
          ++calls === 1 ? Promise.reject(new Error("storage exploded")) : real.handle(request),
      };
      const { port } = await serve(flushWhenAsked, kallimaWebhooks(broken));
      const { headers, body } = await signedLines();
      const client = await RawClient.open(port);
      await client.head("POST", ROUTE, [
        ...headers,
        FLUSH,
        ["Content-Length", String(body.length)],
      ]);
      await client.write(body);
      // next(err) with the headers sent: Express's final handler cuts the connection.
      expect(await client.closedWithin(3000)).toBe(true);
      const retry = await exchange(port, { path: ROUTE, headers, body });
      expect([retry.status, JSON.parse(retry.body)]).toMatchObject([200, { received: true }]);
    });
  });
}
