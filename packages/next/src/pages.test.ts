import type { Server } from "node:http";
import { signPayload, webhookTestEvent } from "@kallima/webhooks/testing";
import { fromFetchResponse, runConformanceSuite } from "@kallima/webhooks-conformance";
import { afterEach, describe, expect, it } from "vitest";
import {
  type KallimaPagesHandler,
  kallimaPagesWebhooks,
  PAGES_BODY_PARSER_CONFIG,
} from "./pages.js";
import {
  asNext,
  close,
  listen as listenOn,
  type NodeHandler,
  throughNext,
} from "./test-support/pages.js";

const SECRET = "whsec_nextPagesAdapterSecret_0123456789abcd";

function conformance(name: string, wrap: (route: KallimaPagesHandler) => NodeHandler) {
  runConformanceSuite(name, {
    // The route answers every method itself: 405 with Allow: POST to all but POST.
    otherMethods: "405",
    async setup(options) {
      const { server, port } = await listenOn(wrap(kallimaPagesWebhooks(options as never)));
      return {
        send: async ({ method = "POST", headers, body }) =>
          fromFetchResponse(
            await fetch(`http://127.0.0.1:${port}/api/kallima-events`, { method, headers, body }),
          ),
        close: () => close(server),
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
    for (const server of servers.splice(0)) await close(server);
  });
  const serve = async (handle: NodeHandler) => {
    const { server, port } = await listenOn(handle);
    servers.push(server);
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
