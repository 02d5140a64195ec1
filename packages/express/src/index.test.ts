import type { Server } from "node:http";
import {
  createWebhookHandler,
  getFailureReason,
  type VerifiedKallimaEvent,
  WebhookConfigError,
  type WebhookHandler,
} from "@kallima/webhooks";
import { jobCompletedEvent, jobFailedEvent, signPayload } from "@kallima/webhooks/testing";
import type { ErrorRequestHandler, Express } from "express";
import request from "supertest";
import { afterEach, describe, expect, it } from "vitest";
import { kallimaWebhooks, keepRawBody, verify, verifyKallimaWebhook } from "./index.js";
import { close, frameworks, listen, postBytes, postChunked, SECRET } from "./test-support.js";

const ROUTE = "/kallima-events";

async function signed(payload: object | string = jobCompletedEvent(), timestamp?: number) {
  return signPayload({ secret: SECRET, payload, ...(timestamp ? { timestamp } : {}) });
}

function errorCode(body: string): unknown {
  return (JSON.parse(body) as { error?: { code?: unknown } }).error?.code;
}

/** An app error handler that answers 599, so a test sees that an error reached `next(err)`. */
const reportErrors: ErrorRequestHandler = (error: Error, _req, res, _next) => {
  res.status(599).json({ nextError: error.message });
};

for (const [name, express] of frameworks) {
  describe(`kallimaWebhooks on ${name}`, () => {
    const servers: Server[] = [];
    afterEach(async () => {
      for (const server of servers.splice(0)) await close(server);
    });

    async function serve(app: Express) {
      const { server } = await listen(app);
      servers.push(server);
      return server;
    }

    function receiver() {
      const seen: VerifiedKallimaEvent[] = [];
      const middleware = kallimaWebhooks({
        secret: SECRET,
        on: {
          "job.completed": (event) => void seen.push(event),
          "job.failed": (event) => void seen.push(event),
        },
      });
      return { seen, middleware };
    }

    it("answers 500 raw_body_unavailable behind a global express.json() that kept no bytes", async () => {
      const { seen, middleware } = receiver();
      const app = express();
      app.use(express.json());
      app.post(ROUTE, middleware);
      const delivery = await signed();
      const response = await postBytes(app, ROUTE, delivery.headers, delivery.body);
      expect(response.status).toBe(500);
      expect(errorCode(response.text)).toBe("raw_body_unavailable");
      // The message names the Express fix, not a generic one.
      expect(response.text).toContain("express.json({ verify })");
      expect(response.text).toContain("@kallima/webhooks-express");
      expect(seen).toHaveLength(0);
    });

    it("verifies behind a global express.json({ verify }), and other routes still get parsed JSON", async () => {
      const { seen, middleware } = receiver();
      const app = express();
      app.use(express.json({ verify }));
      app.post(ROUTE, middleware);
      app.post("/echo", (req, res) => {
        res.json({ parsed: req.body });
      });
      const event = jobCompletedEvent();
      // Spacing that JSON.stringify(req.body) would not reproduce: only the kept bytes verify.
      const body = JSON.stringify(event, null, 2);
      const delivery = await signed(body);
      const response = await postBytes(app, ROUTE, delivery.headers, delivery.body);
      expect(response.status).toBe(200);
      expect(seen.map((e) => e.id)).toEqual([event.id]);
      const echo = await request(app).post("/echo").send({ hello: "world" });
      expect(echo.body).toEqual({ parsed: { hello: "world" } });
    });

    it("exports keepRawBody as the same verify callback", () => {
      expect(keepRawBody).toBe(verify);
    });

    it("reads the stream when a global express.json() skipped a non-JSON Content-Type", async () => {
      const { seen, middleware } = receiver();
      const app = express();
      app.use(express.json());
      app.post(ROUTE, middleware);
      const delivery = await signed();
      const headers = { ...delivery.headers, "content-type": "text/plain" };
      const response = await postBytes(app, ROUTE, headers, delivery.body);
      expect(response.status).toBe(200);
      expect(seen).toHaveLength(1);
    });

    it("uses the Buffer that express.raw() left in req.body", async () => {
      const { seen, middleware } = receiver();
      const app = express();
      app.use(express.raw({ type: "*/*" }));
      app.post(ROUTE, middleware);
      const delivery = await signed();
      const response = await postBytes(app, ROUTE, delivery.headers, delivery.body);
      expect(response.status).toBe(200);
      expect(seen).toHaveLength(1);
    });

    it("answers 500 behind express.text() and verifies behind express.text({ verify })", async () => {
      const delivery = await signed();
      const headers = { ...delivery.headers, "content-type": "text/plain" };
      for (const [parser, status] of [
        [express.text(), 500],
        [express.text({ verify }), 200],
      ] as const) {
        const app = express();
        app.use(parser);
        app.post(ROUTE, receiver().middleware);
        const response = await postBytes(app, ROUTE, headers, delivery.body);
        expect(response.status).toBe(status);
      }
    });

    it("answers 500 behind express.urlencoded() and verifies behind express.urlencoded({ verify })", async () => {
      const delivery = await signed();
      const headers = { ...delivery.headers, "content-type": "application/x-www-form-urlencoded" };
      for (const [parser, status] of [
        [express.urlencoded({ extended: false }), 500],
        [express.urlencoded({ extended: false, verify }), 200],
      ] as const) {
        const app = express();
        app.use(parser);
        app.post(ROUTE, receiver().middleware);
        const response = await postBytes(app, ROUTE, headers, delivery.body);
        expect(response.status).toBe(status);
      }
    });

    it("accepts a delivery with no Content-Type at all", async () => {
      const { seen, middleware } = receiver();
      const app = express();
      app.post(ROUTE, middleware);
      const delivery = await signed();
      const { "content-type": _dropped, ...headers } = delivery.headers;
      const response = await postBytes(app, ROUTE, headers, delivery.body);
      expect(response.status).toBe(200);
      expect(seen).toHaveLength(1);
    });

    it("enforces maxBodyBytes while streaming a chunked body with no Content-Length", async () => {
      let runs = 0;
      const app = express();
      app.post(
        ROUTE,
        kallimaWebhooks({
          secret: SECRET,
          maxBodyBytes: 1024,
          on: { "job.completed": () => void runs++ },
        }),
      );
      const server = await serve(app);
      const { port } = server.address() as { port: number };
      const delivery = await signed(
        jobCompletedEvent({ data: { submitted_by: "x".repeat(8192) } }),
      );
      const bytes = Buffer.from(delivery.body);
      const chunks = [bytes.subarray(0, 600), bytes.subarray(600, 1200), bytes.subarray(1200)];
      const response = await postChunked(
        `http://127.0.0.1:${port}${ROUTE}`,
        delivery.headers,
        chunks,
      );
      expect(response.status).toBe(413);
      expect(errorCode(response.body)).toBe("payload_too_large");
      expect(runs).toBe(0);
    });

    it("works in a router mounted under a prefix", async () => {
      const { seen, middleware } = receiver();
      const router = express.Router();
      router.post(ROUTE, middleware);
      const app = express();
      app.use("/hooks", router);
      const delivery = await signed(jobFailedEvent());
      const response = await postBytes(app, `/hooks${ROUTE}`, delivery.headers, delivery.body);
      expect(response.status).toBe(200);
      expect(seen.map((e) => e.type)).toEqual(["job.failed"]);
    });

    it("answers 500 handler_failed when a handler throws or rejects later, without calling next(err)", async () => {
      const app = express();
      app.post(
        ROUTE,
        kallimaWebhooks({
          secret: SECRET,
          on: {
            "job.completed": () => {
              throw new Error("sync failure");
            },
            "job.failed": async () => {
              await new Promise((resolve) => setTimeout(resolve, 5));
              throw new Error("async failure");
            },
          },
        }),
      );
      app.use(reportErrors);
      for (const payload of [jobCompletedEvent(), jobFailedEvent()]) {
        const delivery = await signed(payload);
        const response = await postBytes(app, ROUTE, delivery.headers, delivery.body);
        expect(response.status).toBe(500);
        expect(errorCode(response.text)).toBe("handler_failed");
        expect(response.text).not.toContain("failure");
      }
    });

    it("passes an error that is not the library's own to next(err)", async () => {
      const real = createWebhookHandler({ secret: SECRET });
      const broken: WebhookHandler = {
        ...real,
        handle: () => Promise.reject(new Error("storage exploded")),
      };
      const app = express();
      app.post(ROUTE, kallimaWebhooks(broken));
      app.use(reportErrors);
      const delivery = await signed();
      const response = await postBytes(app, ROUTE, delivery.headers, delivery.body);
      expect(response.status).toBe(599);
      expect(response.body).toEqual({ nextError: "storage exploded" });
    });

    it("answers 400 request_aborted to a broken request stream instead of leaving it hanging", async () => {
      const errors: string[] = [];
      const app = express();
      app.post(
        ROUTE,
        (req, _res, next) => {
          next();
          // The webhook middleware attached its stream listeners synchronously inside next().
          req.emit("error", new Error("stream broke"));
        },
        kallimaWebhooks({ secret: SECRET, onError: (error) => void errors.push(error.code) }),
      );
      app.use(reportErrors);
      const delivery = await signed();
      const response = await postBytes(app, ROUTE, delivery.headers, delivery.body);
      expect([response.status, errorCode(response.text)]).toEqual([400, "request_aborted"]);
      expect(errors).toEqual(["request_aborted"]);
    });

    it("accepts a handler made with createWebhookHandler and its .on() handlers", async () => {
      const seen: string[] = [];
      const webhooks = createWebhookHandler({ secret: SECRET }).on("job.failed", (event) => {
        seen.push(getFailureReason(event.data).message);
      });
      const app = express();
      app.post(ROUTE, kallimaWebhooks(webhooks));
      const event = jobFailedEvent();
      const delivery = await signed(event);
      const response = await postBytes(app, ROUTE, delivery.headers, delivery.body);
      expect(response.status).toBe(200);
      expect(seen).toEqual([getFailureReason(event.data).message]);
    });

    it("lets a non-POST request go on to the next route on the same path", async () => {
      const app = express();
      app.use(ROUTE, kallimaWebhooks({ secret: SECRET }));
      app.get(ROUTE, (_req, res) => {
        res.json({ listed: true });
      });
      expect((await request(app).get(ROUTE)).body).toEqual({ listed: true });
      expect((await request(app).put(ROUTE)).status).toBe(404);
    });
  });

  describe(`verifyKallimaWebhook on ${name}`, () => {
    function verifiedApp(options: Parameters<typeof verifyKallimaWebhook>[0] = { secret: SECRET }) {
      const reached: VerifiedKallimaEvent[] = [];
      const app = express();
      app.post(ROUTE, verifyKallimaWebhook(options), (req, res) => {
        reached.push(req.kallimaEvent!);
        res.json({ got: req.kallimaEvent?.id });
      });
      app.use(reportErrors);
      return { app, reached };
    }

    it("sets req.kallimaEvent and hands over to the next handler", async () => {
      const { app, reached } = verifiedApp();
      const event = jobCompletedEvent();
      const delivery = await signed(event);
      const response = await postBytes(app, ROUTE, delivery.headers, delivery.body);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ got: event.id });
      expect(reached).toEqual([event]);
    });

    it("answers tampered and stale deliveries itself; the route never runs", async () => {
      const { app, reached } = verifiedApp();
      const delivery = await signed();
      const tampered = String(delivery.body).replace("completed", "c0mpleted");
      const bad = await postBytes(app, ROUTE, delivery.headers, tampered);
      expect([bad.status, errorCode(bad.text)]).toEqual([401, "invalid_signature"]);
      const stale = await signed(jobCompletedEvent(), Math.floor(Date.now() / 1000) - 3600);
      const old = await postBytes(app, ROUTE, stale.headers, stale.body);
      expect([old.status, errorCode(old.text)]).toEqual([401, "timestamp_too_old"]);
      expect(reached).toHaveLength(0);
    });

    it("answers 500 raw_body_unavailable behind express.json() without verify", async () => {
      const app = express();
      app.use(express.json());
      app.post(ROUTE, verifyKallimaWebhook({ secret: SECRET }), (_req, res) => {
        res.json({ reached: true });
      });
      const delivery = await signed();
      const response = await postBytes(app, ROUTE, delivery.headers, delivery.body);
      expect([response.status, errorCode(response.text)]).toEqual([500, "raw_body_unavailable"]);
    });

    it("does not deduplicate: the app's route sees a repeated delivery again", async () => {
      const { app, reached } = verifiedApp();
      const delivery = await signed();
      await postBytes(app, ROUTE, delivery.headers, delivery.body);
      await postBytes(app, ROUTE, delivery.headers, delivery.body);
      expect(reached).toHaveLength(2);
    });

    it("sends an error thrown by the route to Express's error handling once", async () => {
      const app = express();
      let routeRuns = 0;
      app.post(ROUTE, verifyKallimaWebhook({ secret: SECRET }), () => {
        routeRuns++;
        throw new Error("route failed");
      });
      app.use(reportErrors);
      const delivery = await signed();
      const response = await postBytes(app, ROUTE, delivery.headers, delivery.body);
      expect(response.status).toBe(599);
      expect(response.body).toEqual({ nextError: "route failed" });
      expect(routeRuns).toBe(1);
    });

    it("answers 400 request_aborted to a broken request stream; the route never runs", async () => {
      const app = express();
      app.post(
        ROUTE,
        (req, _res, next) => {
          next();
          req.emit("error", new Error("stream broke"));
        },
        verifyKallimaWebhook({ secret: SECRET }),
        (_req, res) => {
          res.json({ reached: true });
        },
      );
      app.use(reportErrors);
      const delivery = await signed();
      const response = await postBytes(app, ROUTE, delivery.headers, delivery.body);
      expect([response.status, errorCode(response.text)]).toEqual([400, "request_aborted"]);
    });

    it("accepts a handler made with createWebhookHandler without running its handlers", async () => {
      let runs = 0;
      const webhooks = createWebhookHandler({ secret: SECRET }).on("job.completed", () => {
        runs++;
      });
      const { app, reached } = verifiedApp(webhooks);
      const delivery = await signed();
      const response = await postBytes(app, ROUTE, delivery.headers, delivery.body);
      expect(response.status).toBe(200);
      expect(reached).toHaveLength(1);
      expect(runs).toBe(0);
    });
  });
}

describe("verifyKallimaWebhook options", () => {
  it("refuses `on` handlers, which it would never run", () => {
    const options = { secret: SECRET, on: { "job.completed": () => {} } };
    expect(() => verifyKallimaWebhook(options as { secret: string })).toThrow(WebhookConfigError);
  });

  it("fails at start-up on a bad secret, like the core", () => {
    expect(() => verifyKallimaWebhook({ secret: "" })).toThrow(WebhookConfigError);
    expect(() => kallimaWebhooks({ secret: "" })).toThrow(WebhookConfigError);
  });
});
