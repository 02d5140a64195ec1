import { Readable } from "node:stream";
import { createGunzip, gzipSync } from "node:zlib";
import Fastify, {
  type FastifyInstance,
  type FastifyServerOptions,
  type RouteOptions,
} from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { kallimaWebhooks, verifyKallimaWebhook, WebhookConfigError } from "./index.js";
import { type FastifyFactory, frameworks, SECRET } from "./test-support.js";
import { jobCompletedEvent, signPayload } from "./testing.js";

const ROUTE = "/kallima-events";

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

let factory: FastifyFactory = Fastify;
function fastify(options: FastifyServerOptions = {}): FastifyInstance {
  const app = factory({ logger: false, ...options });
  apps.push(app);
  return app;
}

async function signed(payload: object = jobCompletedEvent()) {
  const delivery = await signPayload({ secret: SECRET, payload });
  return { headers: delivery.headers, body: Buffer.from(delivery.body) };
}

for (const [name, framework] of frameworks) {
  describe(name, () => {
    beforeEach(() => {
      factory = framework;
    });

    it("runs these tests on that major", () => {
      expect(`fastify ${fastify().version.split(".")[0]}`).toBe(name);
    });

    describe(`the kallimaWebhooks plugin, through app.inject()`, () => {
      it("receives on its path, and leaves how the rest of the app parses bodies as it was", async () => {
        const app = fastify();
        const ran: string[] = [];
        await app.register(kallimaWebhooks, {
          path: ROUTE,
          secret: SECRET,
          logger: false,
          on: { "job.completed": (event) => void ran.push(event.id) },
        });
        app.post("/orders", async (request) => ({ body: request.body }));
        const event = jobCompletedEvent();
        const delivery = await signed(event);
        const received = await app.inject({ method: "POST", url: ROUTE, ...delivery });
        expect([received.statusCode, received.json()]).toEqual([
          200,
          { received: true, outcome: "handled" },
        ]);
        expect(ran).toEqual([event.id]);
        const json = await app.inject({ method: "POST", url: "/orders", payload: { id: 7 } });
        expect(json.json()).toEqual({ body: { id: 7 } });
        const text = await app.inject({
          method: "POST",
          url: "/orders",
          headers: { "content-type": "text/plain" },
          payload: "hello",
        });
        expect(text.json()).toEqual({ body: "hello" });
        // The plugin's catch-all parser is its own: elsewhere an unknown type is still Fastify's 415.
        const bytes = await app.inject({
          method: "POST",
          url: "/orders",
          headers: { "content-type": "application/octet-stream" },
          payload: Buffer.from([1, 2, 3]),
        });
        expect(bytes.statusCode).toBe(415);
      });

      it.each([
        ["application/json; charset=utf-8"],
        ["text/plain"],
        ["application/x-www-form-urlencoded"],
        ["application/octet-stream"],
        [undefined],
      ])("takes the exact bytes sent as %s", async (contentType) => {
        const app = fastify();
        let runs = 0;
        await app.register(kallimaWebhooks, {
          path: ROUTE,
          secret: SECRET,
          logger: false,
          on: { "job.completed": () => void runs++ },
        });
        const { headers, body } = await signed();
        const { "content-type": _json, ...rest } = headers;
        const response = await app.inject({
          method: "POST",
          url: ROUTE,
          headers: contentType === undefined ? rest : { ...rest, "content-type": contentType },
          payload: body,
        });
        expect(response.statusCode).toBe(200);
        expect(runs).toBe(1);
      });

      it("gives its route a bodyLimit equal to maxBodyBytes, whatever the app's bodyLimit", async () => {
        const routes: RouteOptions[] = [];
        const app = fastify({ bodyLimit: 512 });
        app.addHook("onRoute", (route) => void routes.push(route));
        await app.register(kallimaWebhooks, {
          path: ROUTE,
          secret: SECRET,
          logger: false,
          maxBodyBytes: 4096,
        });
        await app.ready();
        expect(routes.map((route) => [route.url, route.bodyLimit])).toContainEqual([ROUTE, 4096]);
        const padded = (size: number) => ({ ...jobCompletedEvent(), padding: "x".repeat(size) });
        // Over the app's 512 bytes, within the route's 4096: accepted.
        const within = await app.inject({
          method: "POST",
          url: ROUTE,
          ...(await signed(padded(2000))),
        });
        expect(within.statusCode).toBe(200);
        const over = await app.inject({
          method: "POST",
          url: ROUTE,
          ...(await signed(padded(5000))),
        });
        expect([over.statusCode, over.json().error.code]).toEqual([413, "payload_too_large"]);
      });

      it("defaults its route's bodyLimit to the core's 1 MiB", async () => {
        const routes: RouteOptions[] = [];
        const app = fastify();
        app.addHook("onRoute", (route) => void routes.push(route));
        await app.register(kallimaWebhooks, { path: ROUTE, secret: SECRET });
        await app.ready();
        expect(routes.find((route) => route.url === ROUTE)?.bodyLimit).toBe(1024 * 1024);
      });

      it("respects encapsulation: the register prefix, and the app's hooks, but no sibling's", async () => {
        const app = fastify();
        const seen: string[] = [];
        app.addHook("onRequest", async (request) => void seen.push(`app ${request.url}`));
        app.addHook("onSend", async (_request, reply) => void reply.header("x-app", "yes"));
        await app.register(async (sibling) => {
          sibling.addHook("onRequest", async () => void seen.push("sibling"));
        });
        await app.register(kallimaWebhooks, { prefix: "/hooks", path: "/kallima", secret: SECRET });
        const response = await app.inject({
          method: "POST",
          url: "/hooks/kallima",
          ...(await signed()),
        });
        expect([response.statusCode, response.headers["x-app"]]).toEqual([200, "yes"]);
        expect(response.headers["content-type"]).toBe("application/json; charset=utf-8");
        expect(seen).toEqual(["app /hooks/kallima"]);
        expect(
          (await app.inject({ method: "POST", url: "/kallima", ...(await signed()) })).statusCode,
        ).toBe(404);
      });

      it("answers other methods 405 with Allow: POST, or leaves them to the app's routes", async () => {
        const app = fastify();
        await app.register(kallimaWebhooks, { path: ROUTE, secret: SECRET, logger: false });
        const put = await app.inject({ method: "PUT", url: ROUTE, payload: { a: 1 } });
        expect([put.statusCode, put.headers.allow, put.json().error.code]).toEqual([
          405,
          "POST",
          "method_not_allowed",
        ]);
        const leaving = fastify();
        leaving.get(ROUTE, async () => ({ listing: true }));
        await leaving.register(kallimaWebhooks, {
          path: ROUTE,
          secret: SECRET,
          otherMethods: "leave",
        });
        expect((await leaving.inject({ method: "GET", url: ROUTE })).json()).toEqual({
          listing: true,
        });
        expect((await leaving.inject({ method: "PUT", url: ROUTE })).statusCode).toBe(404);
        expect(
          (await leaving.inject({ method: "POST", url: ROUTE, ...(await signed()) })).statusCode,
        ).toBe(200);
      });

      it("reads the stream an app's preParsing hook put in place (a gzip-decoding one)", async () => {
        const app = fastify();
        app.addHook("preParsing", async (request, _reply, payload) =>
          request.headers["content-encoding"] === "gzip" ? payload.pipe(createGunzip()) : payload,
        );
        const ran: string[] = [];
        await app.register(kallimaWebhooks, {
          path: ROUTE,
          secret: SECRET,
          logger: false,
          on: { "job.completed": (event) => void ran.push(event.id) },
        });
        const event = jobCompletedEvent();
        const { headers, body } = await signed(event);
        const response = await app.inject({
          method: "POST",
          url: ROUTE,
          headers: { ...headers, "content-encoding": "gzip" },
          payload: gzipSync(body),
        });
        expect(response.json()).toEqual({ received: true, outcome: "handled" });
        expect(ran).toEqual([event.id]);
      });

      it("answers the coded 500 when an app's hook consumed the stream without replacing it", async () => {
        const app = fastify();
        app.addHook("preParsing", async (request) => {
          for await (const _chunk of request.raw) {
            // Read and dropped, as a careless logging hook would.
          }
        });
        await app.register(kallimaWebhooks, { path: ROUTE, secret: SECRET, logger: false });
        const response = await app.inject({ method: "POST", url: ROUTE, ...(await signed()) });
        expect([response.statusCode, response.json().error.code]).toEqual([
          500,
          "raw_body_unavailable",
        ]);
        expect(response.json().error.message).toContain("leave the stream");
      });

      it("refuses options without a path, or with an unknown otherMethods, when the app loads", async () => {
        const noPath = fastify();
        await expect(
          noPath.register(kallimaWebhooks, { secret: SECRET } as never).ready(),
        ).rejects.toThrow(/needs a path/);
        const wrong = fastify();
        const attempt = wrong
          .register(kallimaWebhooks, { path: ROUTE, secret: SECRET, otherMethods: "next" as never })
          .ready();
        await expect(attempt).rejects.toBeInstanceOf(WebhookConfigError);
        const noSecret = fastify();
        await expect(
          noSecret.register(kallimaWebhooks, { path: ROUTE, secret: "" }).ready(),
        ).rejects.toMatchObject({
          code: "invalid_secret",
        });
      });
    });

    describe(`the verifyKallimaWebhook hook, on a route of the app's own`, () => {
      it("sets request.kallimaEvent, and the route still gets the body as the app parses it", async () => {
        const app = fastify();
        app.post(
          ROUTE,
          { preParsing: verifyKallimaWebhook({ secret: SECRET }) },
          async (request) => ({
            id: request.kallimaEvent?.id,
            parsed: (request.body as { id?: string }).id,
          }),
        );
        const event = jobCompletedEvent();
        const response = await app.inject({ method: "POST", url: ROUTE, ...(await signed(event)) });
        expect(response.json()).toEqual({ id: event.id, parsed: event.id });
      });

      it("answers a forged delivery itself; the route does not run", async () => {
        const app = fastify();
        let runs = 0;
        app.post(
          ROUTE,
          { preParsing: verifyKallimaWebhook({ secret: SECRET, logger: false }) },
          async () => ({ runs: ++runs }),
        );
        const { headers, body } = await signed();
        const forged = await app.inject({
          method: "POST",
          url: ROUTE,
          headers,
          payload: Buffer.from(body.toString("utf8").replace("job_", "job_x")),
        });
        expect([forged.statusCode, forged.json().error.code]).toEqual([401, "invalid_signature"]);
        expect(runs).toBe(0);
      });

      it("verifies the bytes an earlier preParsing hook hands on", async () => {
        const app = fastify();
        const { headers, body } = await signed();
        app.post(
          ROUTE,
          {
            preParsing: [
              async (_request, _reply, payload) => {
                payload.resume();
                // As Fastify asks of a hook that replaces the stream: what it read off the wire.
                const replaced = Readable.from([body], { objectMode: false });
                return Object.assign(replaced, { receivedEncodedLength: "ignored".length });
              },
              verifyKallimaWebhook({ secret: SECRET }),
            ],
          },
          async (request) => ({ verified: request.kallimaEvent?.type }),
        );
        const response = await app.inject({
          method: "POST",
          url: ROUTE,
          headers,
          payload: "ignored",
        });
        expect(response.json()).toEqual({ verified: "job.completed" });
      });
    });
  });
}
