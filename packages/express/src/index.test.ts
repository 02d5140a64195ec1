import type { Server } from "node:http";
import type { ErrorRequestHandler, Express } from "express";
import request from "supertest";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  createWebhookHandler,
  getFailureReason,
  type KallimaWebhooksOptions,
  kallimaWebhooks,
  keepRawBody,
  type VerifiedKallimaEvent,
  verify,
  verifyKallimaWebhook,
  WebhookConfigError,
  type WebhookHandler,
} from "./index.js";
import { close, frameworks, listen, postBytes, postChunked, SECRET } from "./test-support.js";
import { jobCompletedEvent, jobFailedEvent, signPayload } from "./testing.js";

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
        logger: false,
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
          logger: false,
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
          logger: false,
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
      const real = createWebhookHandler({ secret: SECRET, logger: false });
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
        kallimaWebhooks({
          secret: SECRET,
          logger: false,
          onError: (error) => void errors.push(error.code),
        }),
      );
      app.use(reportErrors);
      const delivery = await signed();
      const response = await postBytes(app, ROUTE, delivery.headers, delivery.body);
      expect([response.status, errorCode(response.text)]).toEqual([400, "request_aborted"]);
      expect(errors).toEqual(["request_aborted"]);
    });

    it("accepts a handler made with createWebhookHandler and its .on() handlers", async () => {
      const seen: string[] = [];
      const webhooks = createWebhookHandler({ secret: SECRET, logger: false }).on(
        "job.failed",
        (event) => {
          seen.push(getFailureReason(event.data).message);
        },
      );
      const app = express();
      app.post(ROUTE, kallimaWebhooks(webhooks));
      const event = jobFailedEvent();
      const delivery = await signed(event);
      const response = await postBytes(app, ROUTE, delivery.headers, delivery.body);
      expect(response.status).toBe(200);
      expect(seen).toEqual([getFailureReason(event.data).message]);
    });

    it("answers other methods 405 with Allow: POST when mounted with app.all() or app.use()", async () => {
      let runs = 0;
      const options: KallimaWebhooksOptions = {
        secret: SECRET,
        logger: false,
        on: { "job.completed": () => void runs++ },
      };
      const viaAll = express();
      viaAll.all(ROUTE, kallimaWebhooks(options));
      const viaUse = express();
      viaUse.use(ROUTE, kallimaWebhooks(options));
      const delivery = await signed();
      for (const app of [viaAll, viaUse]) {
        for (const method of ["get", "put", "patch", "delete", "head"] as const) {
          const response = await request(app)[method](ROUTE).set(delivery.headers);
          expect([method, response.status, response.headers.allow]).toEqual([method, 405, "POST"]);
          if (method !== "head") expect(errorCode(response.text)).toBe("method_not_allowed");
        }
        const posted = await postBytes(app, ROUTE, delivery.headers, delivery.body);
        expect(posted.status).toBe(200);
      }
      // One run per app (each has its own store), none for another method.
      expect(runs).toBe(2);
    });

    it('leaves other methods to the next route with otherMethods: "next"', async () => {
      let runs = 0;
      const app = express();
      app.all(
        ROUTE,
        kallimaWebhooks({
          secret: SECRET,
          logger: false,
          otherMethods: "next",
          on: { "job.completed": () => void runs++ },
        }),
      );
      app.get(ROUTE, (_req, res) => {
        res.json({ listed: true });
      });
      expect((await request(app).get(ROUTE)).body).toEqual({ listed: true });
      // No route of the app takes PUT: Express's own 404, and no handler ran.
      expect((await request(app).put(ROUTE)).status).toBe(404);
      const delivery = await signed();
      const posted = await postBytes(app, ROUTE, delivery.headers, delivery.body);
      expect(JSON.parse(posted.text)).toMatchObject({ received: true, outcome: "handled" });
      expect(runs).toBe(1);
    });

    it('takes otherMethods: "next" as a second argument after a handler', async () => {
      const app = express();
      app.use(
        ROUTE,
        kallimaWebhooks(createWebhookHandler({ secret: SECRET, logger: false }), {
          otherMethods: "next",
        }),
      );
      app.get(ROUTE, (_req, res) => {
        res.json({ listed: true });
      });
      expect((await request(app).get(ROUTE)).body).toEqual({ listed: true });
      const delivery = await signed();
      expect((await postBytes(app, ROUTE, delivery.headers, delivery.body)).status).toBe(200);
    });

    it("leaves other methods to Express when mounted with app.post()", async () => {
      const { middleware } = receiver();
      const app = express();
      app.post(ROUTE, middleware);
      // Express never routes a PUT to a POST route: its own 404, not the adapter's 405.
      expect((await request(app).put(ROUTE)).status).toBe(404);
    });

    it("gives handlers and a secret function the request's { req, res }", async () => {
      const secrets: Record<string, string> = { acme: SECRET, other: "whsec_anotherTenantSecret" };
      const tenants: string[] = [];
      const app = express();
      app.use((_req, res, next) => {
        res.locals.requestId = "req_42";
        next();
      });
      app.all(
        "/hooks/:tenant",
        kallimaWebhooks({
          secret: ({ req }) => secrets[String(req.params.tenant)] ?? [],
          logger: false,
          on: {
            "job.completed": (_event, { req, res }) => {
              tenants.push(`${req.params.tenant}:${res.locals.requestId}`);
            },
          },
        }),
      );
      const delivery = await signed();
      const acme = await postBytes(app, "/hooks/acme", delivery.headers, delivery.body);
      expect(acme.status).toBe(200);
      const other = await postBytes(app, "/hooks/other", delivery.headers, delivery.body);
      expect([other.status, errorCode(other.text)]).toEqual([401, "invalid_signature"]);
      expect(tenants).toEqual(["acme:req_42"]);
    });

    it("logs failures to console by default, and not at all with logger: false", async () => {
      const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
      try {
        const stale = await signed(jobCompletedEvent(), Math.floor(Date.now() / 1000) - 3600);
        for (const logger of [undefined, false] as const) {
          const app = express();
          app.all(
            ROUTE,
            kallimaWebhooks({
              secret: SECRET,
              ...(logger === false ? { logger } : {}),
            }),
          );
          const response = await postBytes(app, ROUTE, stale.headers, stale.body);
          expect(response.status).toBe(401);
        }
        expect(warn).toHaveBeenCalledTimes(1);
        expect(warn.mock.calls[0]?.[1]).toMatchObject({ code: "timestamp_too_old", status: 401 });
      } finally {
        warn.mockRestore();
      }
    });
  });

  describe(`verifyKallimaWebhook on ${name}`, () => {
    function verifiedApp(
      options: Parameters<typeof verifyKallimaWebhook>[0] = { secret: SECRET, logger: false },
    ) {
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
      app.post(ROUTE, verifyKallimaWebhook({ secret: SECRET, logger: false }), (_req, res) => {
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
      app.post(ROUTE, verifyKallimaWebhook({ secret: SECRET, logger: false }), () => {
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
        verifyKallimaWebhook({ secret: SECRET, logger: false }),
        (_req, res) => {
          res.json({ reached: true });
        },
      );
      app.use(reportErrors);
      const delivery = await signed();
      const response = await postBytes(app, ROUTE, delivery.headers, delivery.body);
      expect([response.status, errorCode(response.text)]).toEqual([400, "request_aborted"]);
    });

    it("answers other methods 405 when mounted with app.all(); the route never runs", async () => {
      let routeRuns = 0;
      const app = express();
      app.all(ROUTE, verifyKallimaWebhook({ secret: SECRET, logger: false }), (_req, res) => {
        routeRuns++;
        res.json({ reached: true });
      });
      const delivery = await signed();
      const response = await request(app).put(ROUTE).set(delivery.headers);
      expect([response.status, response.headers.allow]).toEqual([405, "POST"]);
      expect(errorCode(response.text)).toBe("method_not_allowed");
      expect(routeRuns).toBe(0);
    });

    it("gives a secret function the request's { req, res }", async () => {
      const app = express();
      app.post(
        "/hooks/:tenant",
        verifyKallimaWebhook({
          secret: ({ req }) => (req.params.tenant === "acme" ? SECRET : []),
          logger: false,
        }),
        (req, res) => {
          res.json({ got: req.kallimaEvent?.id });
        },
      );
      const event = jobCompletedEvent();
      const delivery = await signed(event);
      const acme = await postBytes(app, "/hooks/acme", delivery.headers, delivery.body);
      expect(acme.body).toEqual({ got: event.id });
      const other = await postBytes(app, "/hooks/other", delivery.headers, delivery.body);
      expect(other.status).toBe(500);
      expect(errorCode(other.text)).toBe("invalid_secret");
    });

    it("accepts a handler made with createWebhookHandler without running its handlers", async () => {
      let runs = 0;
      const webhooks = createWebhookHandler({ secret: SECRET, logger: false }).on(
        "job.completed",
        () => {
          runs++;
        },
      );
      const { app, reached } = verifiedApp(webhooks);
      const delivery = await signed();
      const response = await postBytes(app, ROUTE, delivery.headers, delivery.body);
      expect(response.status).toBe(200);
      expect(reached).toHaveLength(1);
      expect(runs).toBe(0);
    });
  });
}

describe("options", () => {
  it("verifyKallimaWebhook refuses the options that only handlers use, with the core's message", () => {
    for (const extra of [
      { on: { "job.completed": () => {} } },
      { onUnhandled: () => {} },
      { idempotency: false },
      { deadlineMs: 1000 },
    ]) {
      const options = { secret: SECRET, logger: false, ...extra };
      expect(() => verifyKallimaWebhook(options as { secret: string })).toThrow(WebhookConfigError);
      expect(() => verifyKallimaWebhook(options as { secret: string })).toThrow(/only verifies/);
    }
  });

  it("fails at start-up on a bad secret, like the core", () => {
    expect(() => verifyKallimaWebhook({ secret: "" })).toThrow(WebhookConfigError);
    expect(() => kallimaWebhooks({ secret: "" })).toThrow(WebhookConfigError);
  });

  it("refuses an unknown otherMethods value", () => {
    for (const attempt of [
      () => kallimaWebhooks({ secret: SECRET, logger: false, otherMethods: "passes-on" as "next" }),
      () =>
        kallimaWebhooks(createWebhookHandler({ secret: SECRET, logger: false }), {
          otherMethods: "404" as "405",
        }),
    ]) {
      expect(attempt).toThrow(WebhookConfigError);
      expect(attempt).toThrow(/otherMethods must be "405" or "next"/);
    }
  });

  it("does not hand otherMethods to the core", async () => {
    const middleware = kallimaWebhooks({ secret: SECRET, logger: false, otherMethods: "405" });
    expect(typeof middleware).toBe("function");
  });
});
