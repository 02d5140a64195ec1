import { IncomingMessage, type Server, ServerResponse } from "node:http";
import { signPayload, webhookTestEvent } from "@kallima/webhooks/testing";
import {
  type ConformanceApp,
  expectExportParity,
  fromFetchResponse,
  runConformanceSuite,
} from "@kallima/webhooks-conformance";
import { afterEach, describe, expect, it } from "vitest";
import {
  type KallimaPagesContext,
  type KallimaPagesHandler,
  kallimaWebhooks,
  PAGES_BODY_PARSER_CONFIG,
  verifyKallimaWebhook,
} from "./pages.js";
import {
  asNext,
  close,
  listen as listenOn,
  type NodeHandler,
  throughNext,
} from "./test-support/pages.js";

const SECRET = "whsec_nextPagesAdapterSecret_0123456789abcd";
const PATH = "/api/kallima-events";

const isPagesContext = (context: unknown): boolean =>
  typeof context === "object" &&
  context !== null &&
  (context as KallimaPagesContext).req instanceof IncomingMessage &&
  (context as KallimaPagesContext).res instanceof ServerResponse &&
  (context as KallimaPagesContext).res.req === (context as KallimaPagesContext).req;

async function serveApp(
  handle: NodeHandler,
): Promise<ConformanceApp & { url: string; close(): Promise<void> }> {
  const { server, port } = await listenOn(handle);
  const url = `http://127.0.0.1:${port}${PATH}`;
  return {
    url,
    send: async ({ method = "POST", headers, body }) =>
      fromFetchResponse(await fetch(url, { method, headers, body })),
    close: () => close(server),
  };
}

function conformance(name: string, wrap: (route: KallimaPagesHandler) => NodeHandler) {
  runConformanceSuite(name, {
    setup: (options) => serveApp(wrap(kallimaWebhooks(options as never))),
    contract: {
      isFrameworkContext: isPagesContext,
      async setupVerifyOnly(options) {
        let failure: unknown;
        // The app's own API route, verifying first, as the README shows it.
        const route: KallimaPagesHandler = async (req, res) => {
          try {
            const event = await verifyKallimaWebhook(req, res, options as never);
            if (!event) return;
            res.setHeader("content-type", "application/json");
            res.end(JSON.stringify({ verified: event.id }));
          } catch (error) {
            // Kept for setupVerifyOnly to throw, and answered here so that Next does not log it.
            failure = error;
            res.statusCode = 500;
            res.end();
          }
        };
        const app = await serveApp(wrap(route));
        // The helper is called per request, so it meets its options on the first one: a request
        // of another method, answered 405 without reading a body (and not logged).
        await fetch(app.url, { method: "GET" });
        if (failure !== undefined) {
          await app.close();
          throw failure;
        }
        return app;
      },
    },
  });
}

conformance("next Pages Router on node:http", asNext);
conformance("next Pages Router through Next's apiResolver (bodyParser: false)", (route) =>
  throughNext(route, { api: { bodyParser: false } }),
);

it("re-exports the core's whole surface from /pages too, with the same names", async () => {
  const pages = await import("./pages.js");
  expectExportParity(pages, await import("@kallima/webhooks"));
  expect(pages.kallimaPagesWebhooks).toBe(pages.kallimaWebhooks);
});

describe("kallimaWebhooks (Pages Router)", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await close(server);
  });
  const serve = async (handle: NodeHandler) => {
    const { server, port } = await listenOn(handle);
    servers.push(server);
    return `http://127.0.0.1:${port}${PATH}`;
  };

  it("answers 500 raw_body_unavailable naming the config line when Next's body parser ran", async () => {
    let ran = 0;
    const route = kallimaWebhooks({
      secret: SECRET,
      logger: false,
      on: { "webhook.test": () => void ran++ },
    });
    const url = await serve(throughNext(route));
    const signed = await signPayload({ secret: SECRET, payload: webhookTestEvent() });

    const response = await fetch(url, {
      method: "POST",
      headers: signed.headers,
      body: signed.body,
    });

    expect(response.status).toBe(500);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe("raw_body_unavailable");
    expect(error.message).toContain(PAGES_BODY_PARSER_CONFIG);
    expect(ran).toBe(0);
  });

  it("does not re-serialize a parsed body even when it would reproduce the signed bytes", async () => {
    // Compact JSON, as JSON.stringify would write it back: re-serializing would pass here, and is still refused.
    let ran = 0;
    const route = kallimaWebhooks({
      secret: SECRET,
      logger: false,
      on: { "webhook.test": () => void ran++ },
    });
    const url = await serve(throughNext(route));
    const body = JSON.stringify(webhookTestEvent());
    const signed = await signPayload({ secret: SECRET, payload: body });
    const response = await fetch(url, { method: "POST", headers: signed.headers, body });
    expect(response.status).toBe(500);
    expect(ran).toBe(0);
  });

  it("verifies the exact bytes Next hands over with bodyParser: false", async () => {
    const seen: string[] = [];
    const route = kallimaWebhooks({
      secret: SECRET,
      on: { "webhook.test": (event) => void seen.push(event.data.webhook_id) },
    });
    const url = await serve(throughNext(route, { api: { bodyParser: false } }));
    // Whitespace and key order a parse-and-reserialize step would lose.
    const body = `{ "type": "webhook.test",\n  "id": "evt_pages_1", "api_version": "2026-04-23", "created_at": "2026-04-23T10:00:00+00:00", "data": { "webhook_id": "wh_pages" } }`;
    const signed = await signPayload({ secret: SECRET, payload: body });

    const response = await fetch(url, { method: "POST", headers: signed.headers, body });

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: true, outcome: "handled" });
    expect(seen).toEqual(["wh_pages"]);
  });

  it("answers 405 with Allow: POST to other methods", async () => {
    const route = kallimaWebhooks({ secret: SECRET });
    const url = await serve(throughNext(route, { api: { bodyParser: false } }));
    const response = await fetch(url, { method: "GET" });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
    expect(await response.json()).toMatchObject({ error: { code: "method_not_allowed" } });
  });

  // `next build` evaluates API route modules too, often without the run-time secret.
  it("builds without the secret, then answers 500 invalid_secret and logs it", async () => {
    const lines: string[] = [];
    const logger = { error: (line: string) => void lines.push(line), warn() {} };
    const route = kallimaWebhooks({ secret: undefined as unknown as string, logger });
    const url = await serve(throughNext(route, { api: { bodyParser: false } }));
    const signed = await signPayload({ secret: SECRET, payload: webhookTestEvent() });
    const response = await fetch(url, {
      method: "POST",
      headers: signed.headers,
      body: signed.body,
    });
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ error: { code: "invalid_secret" } });
    expect(lines).toEqual([expect.stringContaining("invalid_secret")]);
  });
});

describe("verifyKallimaWebhook (Pages Router)", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await close(server);
  });

  it("names the config line when Next's body parser ran, and the route does not run", async () => {
    let ran = 0;
    const route: KallimaPagesHandler = async (req, res) => {
      const event = await verifyKallimaWebhook(req, res, { secret: SECRET, logger: false });
      if (!event) return;
      ran++;
      res.status(200).json({ ok: true });
    };
    const { server, port } = await listenOn(throughNext(route));
    servers.push(server);
    const signed = await signPayload({ secret: SECRET, payload: webhookTestEvent() });
    const response = await fetch(`http://127.0.0.1:${port}${PATH}`, {
      method: "POST",
      headers: signed.headers,
      body: signed.body,
    });
    expect(response.status).toBe(500);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect([error.code, error.message.includes(PAGES_BODY_PARSER_CONFIG)]).toEqual([
      "raw_body_unavailable",
      true,
    ]);
    expect(ran).toBe(0);
  });

  it("answers a missing secret with 500 invalid_secret", async () => {
    const route: KallimaPagesHandler = async (req, res) => {
      const event = await verifyKallimaWebhook(req, res, {
        secret: undefined as unknown as string,
        logger: false,
      });
      if (event) res.status(200).json({ ok: true });
    };
    const { server, port } = await listenOn(throughNext(route, { api: { bodyParser: false } }));
    servers.push(server);
    const signed = await signPayload({ secret: SECRET, payload: webhookTestEvent() });
    const response = await fetch(`http://127.0.0.1:${port}${PATH}`, {
      method: "POST",
      headers: signed.headers,
      body: signed.body,
    });
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ error: { code: "invalid_secret" } });
  });
});
