import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { signPayload, webhookTestEvent } from "@kallima/webhooks/testing";
import { type ConformanceResponse, runConformanceSuite } from "@kallima/webhooks-conformance";
import type { NextApiRequest, NextApiResponse } from "next";
// Next.js's own API route runner (the code `next start` runs for pages/api), so that the body
// parser config is exercised exactly as Next applies it. Internal: a Next release that moves it
// fails this import loudly rather than silently testing something else.
import { apiResolver } from "next/dist/server/api-utils/node/api-resolver.js";
import request from "supertest";
import { afterEach, describe, expect, it } from "vitest";
import {
  type KallimaPagesHandler,
  kallimaPagesWebhooks,
  PAGES_BODY_PARSER_CONFIG,
} from "./pages.js";

const SECRET = "whsec_nextPagesAdapterSecret_0123456789abcd";

type NodeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

const asNext =
  (route: KallimaPagesHandler): NodeHandler =>
  (req, res) =>
    route(req as NextApiRequest, res as NextApiResponse);

/** Serves a route the way `next start` serves pages/api: through Next's apiResolver with the module's config. */
function throughNext(route: KallimaPagesHandler, config?: { api: { bodyParser: false } }) {
  const module = config ? { default: route, config } : { default: route };
  const previewKey = "0".repeat(64);
  return (req: IncomingMessage, res: ServerResponse) =>
    apiResolver(
      req,
      res,
      {},
      module,
      {
        previewModeId: previewKey,
        previewModeEncryptionKey: previewKey,
        previewModeSigningKey: previewKey,
        dev: false,
      },
      false,
      false,
      "/api/kallima-events",
    );
}

function toConformance(response: request.Response): ConformanceResponse {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(response.headers as Record<string, unknown>)) {
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  return { status: response.status, headers, body: String(response.body) };
}

async function listen(handle: NodeHandler): Promise<Server> {
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.statusCode = 599;
      res.end(String(error));
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return server;
}

function conformance(name: string, wrap: (route: KallimaPagesHandler) => NodeHandler) {
  runConformanceSuite(name, {
    async setup(options) {
      const server = await listen(wrap(kallimaPagesWebhooks(options as never)));
      return {
        send: async ({ headers, body }) =>
          toConformance(
            await request(server)
              .post("/api/kallima-events")
              .set(headers)
              // superagent would JSON-encode a Buffer sent as application/json: send the bytes as they are.
              .serialize((bytes: Buffer) => bytes as unknown as string)
              .send(Buffer.from(body))
              .buffer(true)
              .parse((res, done) => {
                // Keep the answer as text: the suite parses it itself.
                let text = "";
                res.setEncoding("utf8");
                res.on("data", (chunk: string) => {
                  text += chunk;
                });
                res.on("end", () => done(null, text));
              }),
          ),
        close: () => new Promise((resolve) => server.close(resolve)),
      };
    },
  });
}

conformance("next Pages Router on node:http", asNext);
conformance("next Pages Router through Next's apiResolver (bodyParser: false)", (route) =>
  throughNext(route, { api: { bodyParser: false } }),
);

describe("kallimaPagesWebhooks", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      await new Promise((resolve) => server.close(resolve));
    }
  });
  const serve = async (handle: NodeHandler) => {
    const server = await listen(handle);
    servers.push(server);
    const { port } = server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/api/kallima-events`;
  };

  it("answers 500 raw_body_unavailable naming the config line when Next's body parser ran", async () => {
    let ran = 0;
    const route = kallimaPagesWebhooks({
      secret: SECRET,
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
    const route = kallimaPagesWebhooks({
      secret: SECRET,
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
    const route = kallimaPagesWebhooks({
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
    const route = kallimaPagesWebhooks({ secret: SECRET });
    const url = await serve(throughNext(route, { api: { bodyParser: false } }));
    const response = await fetch(url, { method: "GET" });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
    expect(await response.json()).toMatchObject({ error: { code: "method_not_allowed" } });
  });
});
