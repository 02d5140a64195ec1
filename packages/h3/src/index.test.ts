import {
  CONFORMANCE_SECRET,
  expectExportParity,
  OTHER_SECRET,
  runConformanceSuite,
  signDelivery,
} from "@kallima/webhooks-conformance";
import * as h3v1 from "h3";
import * as h3v2 from "h3-v2";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  createWebhookHandler,
  kallimaWebhooks,
  memoryStore,
  type VerifiedKallimaEvent,
  verifyKallimaWebhook,
  WebhookConfigError,
} from "./index.js";
import { type Major, type Mount, serveForSuite, type Transport } from "./test-support.js";

beforeEach(() => {
  vi.spyOn(console, "warn").mockImplementation(() => {});
  vi.spyOn(console, "error").mockImplementation(() => {});
});
afterEach(() => {
  vi.restoreAllMocks();
});

const MAJORS: Major[] = ["h3 1.x", "h3 2"];
const isH3Event = (major: Major) => (value: unknown) =>
  major === "h3 1.x" ? value instanceof h3v1.H3Event : value instanceof h3v2.H3Event;

/** The verified event's id, answered by the app's own route after verifyKallimaWebhook. */
const verifiedRoute = (event: { context: { kallimaEvent?: VerifiedKallimaEvent } }) => ({
  verified: event.context.kallimaEvent?.id,
});

for (const major of MAJORS) {
  for (const [transport, label] of [
    ["node", "on its Node listener"],
    ["fetch", major === "h3 1.x" ? "through toWebHandler()" : "through app.fetch()"],
  ] as const) {
    runConformanceSuite(`${major} ${label}`, {
      setup: (options) =>
        serveForSuite(major, transport, { route: kallimaWebhooks(options as never) }),
      contract: {
        isFrameworkContext: isH3Event(major),
        setupVerifyOnly: (options) =>
          serveForSuite(major, transport, {
            route: verifyKallimaWebhook(options as never),
            after: verifiedRoute as never,
          }),
      },
    });
  }
}

it("re-exports the core's whole surface beside kallimaWebhooks and verifyKallimaWebhook", async () => {
  expectExportParity(await import("./index.js"), await import("@kallima/webhooks"));
});

it("re-exports the core's testing helpers from ./testing", async () => {
  const testing = await import("./testing.js");
  const core = await import("@kallima/webhooks/testing");
  expect(Object.keys(testing).sort()).toEqual(Object.keys(core).sort());
  expect(testing.signPayload).toBe(core.signPayload);
});

const encoder = new TextEncoder();
const eventJson = (id: string) =>
  JSON.stringify({
    id,
    type: "webhook.test",
    api_version: "2026-04-23",
    created_at: "2026-04-23T10:00:00+00:00",
    data: { webhook_id: "wh_1" },
  });
const concat = (...parts: (Uint8Array | string)[]) =>
  new Uint8Array(
    parts.flatMap((part) => [...(typeof part === "string" ? encoder.encode(part) : part)]),
  );
const BOM = new Uint8Array([0xef, 0xbb, 0xbf]);
const invalidUtf8 = (id: string) =>
  concat(
    `{"id":"${id}","type":"webhook.test","data":{"webhook_id":"wh_`,
    new Uint8Array([0xff]),
    `"}}`,
  );
const codeOf = (body: string) => (JSON.parse(body) as { error?: { code?: string } }).error?.code;

async function deliver(app: Awaited<ReturnType<typeof serveForSuite>>, body: string | Uint8Array) {
  return app.send(signDelivery(body));
}

describe.each(MAJORS)("%s on its Node listener", (major) => {
  const open: Array<{ close?: () => unknown }> = [];
  afterEach(async () => {
    for (const app of open.splice(0)) await app.close?.();
  });
  const serve = async (mount: Mount, transport: Transport = "node") => {
    const app = await serveForSuite(major, transport, mount);
    open.push(app);
    return app;
  };

  it.each([
    ["a UTF-8 BOM", () => concat(BOM, eventJson("evt_bom"))],
    ["invalid UTF-8", () => invalidUtf8("evt_invalid")],
  ])(
    "verifies a body with %s over its exact bytes (then rejects it as not JSON)",
    async (_label, body) => {
      const app = await serve({ route: kallimaWebhooks({ secret: CONFORMANCE_SECRET }) });
      const response = await deliver(app, body());
      // 400, not 401: the signature matched the bytes as sent.
      expect([response.status, codeOf(response.body)]).toEqual([400, "invalid_payload"]);
    },
  );

  it("leaves the body readable with readBody(event) in the handlers", async () => {
    const seen: unknown[] = [];
    const readBody = (major === "h3 1.x" ? h3v1.readBody : h3v2.readBody) as (
      event: unknown,
    ) => Promise<{ id: string }>;
    const app = await serve({
      route: kallimaWebhooks({
        secret: CONFORMANCE_SECRET,
        on: {
          "webhook.test": async (event, h3Event) => {
            seen.push(event.id, (await readBody(h3Event)).id);
          },
        },
      }),
    });
    expect((await deliver(app, eventJson("evt_read_after"))).status).toBe(200);
    expect(seen).toEqual(["evt_read_after", "evt_read_after"]);
  });

  it("verify-only: sets event.context.kallimaEvent and leaves the exact body to the route", async () => {
    const readRawBody = (
      major === "h3 1.x"
        ? (event: never) => h3v1.readRawBody(event, false)
        : (event: never) => h3v2.readRawBody(event, false)
    ) as (event: unknown) => Promise<Uint8Array | undefined>;
    const bytes = encoder.encode(
      `{ "id": "evt_verify_only", "type": "webhook.test",\n "data": { "webhook_id": "wh_é✓" } }`,
    );
    const app = await serve({
      route: verifyKallimaWebhook({ secret: CONFORMANCE_SECRET }),
      after: (async (event: { context: { kallimaEvent?: VerifiedKallimaEvent } }) => ({
        id: event.context.kallimaEvent?.id,
        bytes: Array.from((await readRawBody(event)) ?? []),
      })) as never,
    });
    const response = await deliver(app, bytes);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ id: "evt_verify_only", bytes: Array.from(bytes) });
  });

  it("answers through h3's response path, so the app's response hook sees every answer", async () => {
    const seen: number[] = [];
    const app = await serve({
      route: kallimaWebhooks({ secret: CONFORMANCE_SECRET }),
      onResponse: (status) => seen.push(status),
    });
    expect((await deliver(app, eventJson("evt_hooked"))).status).toBe(200);
    const forged = signDelivery("{}", { secret: OTHER_SECRET });
    expect((await app.send(forged)).status).toBe(401);
    expect(seen).toEqual([200, 401]);
  });

  it("keeps the headers an earlier handler set on the answer", async () => {
    const app = await serve({
      before: ((event: never) => {
        if (major === "h3 1.x") h3v1.setResponseHeader(event, "x-request-id", "req_1");
        else (event as h3v2.H3Event).res.headers.set("x-request-id", "req_1");
      }) as never,
      route: kallimaWebhooks({ secret: CONFORMANCE_SECRET }),
    });
    const response = await app.send(signDelivery("{}", { secret: OTHER_SECRET }));
    expect(response.status).toBe(401);
    expect(response.headers["x-request-id"]).toBe("req_1");
    expect(response.headers["content-type"]).toBe("application/json; charset=utf-8");
  });

  it("verify-only as the route's request hook, as the README shows: a refused delivery is answered there", async () => {
    const ran: unknown[] = [];
    const route =
      major === "h3 1.x"
        ? h3v1.defineEventHandler({
            onRequest: [verifyKallimaWebhook({ secret: CONFORMANCE_SECRET })],
            handler: (event) => {
              ran.push(event.context.kallimaEvent?.id);
              return { received: true };
            },
          })
        : h3v2.defineHandler({
            middleware: [verifyKallimaWebhook({ secret: CONFORMANCE_SECRET }) as never],
            handler: (event) => {
              // The H3EventContext augmentation is h3 1.x's (the `h3` the package resolves).
              ran.push((event.context as { kallimaEvent?: VerifiedKallimaEvent }).kallimaEvent?.id);
              return { received: true };
            },
          });
    const app = await serve({ route: route as never });
    const forged = signDelivery(eventJson("evt_forged"), { secret: OTHER_SECRET });
    const refused = await app.send(forged);
    expect([refused.status, codeOf(refused.body)]).toEqual([401, "invalid_signature"]);
    expect((await deliver(app, eventJson("evt_hook_ok"))).status).toBe(200);
    expect(ran).toEqual(["evt_hook_ok"]);
  });

  if (major === "h3 1.x") {
    it("verifies the bytes h3 kept when an earlier handler read the body with readBody()", async () => {
      let parsed: unknown;
      const app = await serve({
        before: (async (event: h3v1.H3Event) => {
          if (event.method === "POST") parsed = await h3v1.readBody(event);
        }) as never,
        route: kallimaWebhooks({ secret: CONFORMANCE_SECRET, on: { "webhook.test": () => {} } }),
      });
      const response = await deliver(app, concat(eventJson("evt_read_before"), "\n"));
      expect(response.status).toBe(200);
      expect(parsed).toMatchObject({ id: "evt_read_before" });
    });
  } else {
    it("answers 500 raw_body_unavailable, naming the fix, when an earlier handler consumed the body", async () => {
      const app = await serve({
        before: (async (event: h3v2.H3Event) => {
          if (event.req.method === "POST") await h3v2.readBody(event);
        }) as never,
        route: kallimaWebhooks({ secret: CONFORMANCE_SECRET }),
      });
      const response = await deliver(app, eventJson("evt_consumed"));
      expect([response.status, codeOf(response.body)]).toEqual([500, "raw_body_unavailable"]);
      expect(JSON.parse(response.body).error.message).toContain("readRawBody(event, false)");
    });
  }

  it.each(["GET", "PUT", "DELETE"])("answers %s with 405 and Allow: POST", async (method) => {
    let runs = 0;
    const app = await serve({
      route: kallimaWebhooks({
        secret: CONFORMANCE_SECRET,
        on: { "webhook.test": () => void runs++ },
      }),
    });
    const delivery = signDelivery(eventJson("evt_method"));
    const response = await app.send(
      method === "GET"
        ? { headers: delivery.headers, body: new Uint8Array(0), method }
        : { ...delivery, method },
    );
    expect([response.status, response.headers.allow]).toEqual([405, "POST"]);
    expect(runs).toBe(0);
  });
});

describe("construction", () => {
  it("throws WebhookConfigError at start-up for a bad static secret", () => {
    expect(() => kallimaWebhooks({ secret: "not-a-secret" })).toThrow(WebhookConfigError);
    expect(() => verifyKallimaWebhook({ secret: "" })).toThrow(WebhookConfigError);
  });

  it("refuses handler options in verify-only mode, naming the helper", () => {
    const attempt = () =>
      verifyKallimaWebhook({ secret: CONFORMANCE_SECRET, idempotency: false } as never);
    expect(attempt).toThrow(/verifyKallimaWebhook only verifies.*`idempotency`/);
  });

  it("marks its handlers as h3 1.x's defineEventHandler does", () => {
    expect(h3v1.isEventHandler(kallimaWebhooks({ secret: CONFORMANCE_SECRET }))).toBe(true);
  });

  it.each(MAJORS)("%s: accepts a handler made with createWebhookHandler", async (major) => {
    const seen: string[] = [];
    const handler = createWebhookHandler({
      secret: CONFORMANCE_SECRET,
      idempotency: { store: memoryStore() },
    }).on("webhook.test", (event) => void seen.push(event.id));
    const app = await serveForSuite(major, "fetch", { route: kallimaWebhooks(handler) });
    expect((await deliver(app, eventJson("evt_made"))).status).toBe(200);
    expect(seen).toEqual(["evt_made"]);
  });
});
