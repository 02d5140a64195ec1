import { type ServerType, serve } from "@hono/node-server";
import { signPayload, webhookTestEvent } from "@kallima/webhooks/testing";
import {
  type ConformanceApp,
  type ConformanceRequest,
  expectExportParity,
  fromFetchResponse,
  runConformanceSuite,
  signDelivery,
} from "@kallima/webhooks-conformance";
import { Context, Hono, type MiddlewareHandler } from "hono";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  createWebhookHandler,
  type KallimaWebhookError,
  kallimaWebhooks,
  memoryStore,
  type VerifiedKallimaEvent,
  verifyKallimaWebhook,
  WebhookConfigError,
} from "./index.js";

const SECRET = "whsec_honoAdapterTestSecret_0123456789abcdef";
const ROTATED = "whsec_honoAdapterRotatedSecret_0123456789ab";
const URL_ = "http://localhost/kallima-events";
const PATH = "/kallima-events";

// The core logs rejected deliveries to console by default: keep the output readable (the
// logging tests below look at what was written).
beforeEach(() => {
  vi.spyOn(console, "warn").mockImplementation(() => {});
  vi.spyOn(console, "error").mockImplementation(() => {});
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** The conformance app on `app.request()` or on @hono/node-server. */
async function serveForSuite(app: Hono, node: boolean): Promise<ConformanceApp> {
  if (!node) {
    return {
      send: async ({ method = "POST", headers, body }: ConformanceRequest) =>
        fromFetchResponse(await app.request(PATH, { method, headers, body })),
    };
  }
  const { server, port } = await new Promise<{ server: ServerType; port: number }>((resolve) => {
    const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info) =>
      resolve({ server, port: info.port }),
    );
  });
  return {
    send: async ({ method = "POST", headers, body }) =>
      fromFetchResponse(await fetch(`http://127.0.0.1:${port}${PATH}`, { method, headers, body })),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

for (const [name, node] of [
  ["hono app.request()", false],
  ["hono on @hono/node-server", true],
] as const) {
  runConformanceSuite(name, {
    // Mounted as the README says, with app.all(): other methods reach the core, which answers 405.
    setup: (options) => {
      const app = new Hono();
      app.all(PATH, kallimaWebhooks(options as never));
      return serveForSuite(app, node);
    },
    contract: {
      isFrameworkContext: (context) => context instanceof Context,
      setupVerifyOnly: (options) => {
        const app = new Hono();
        app.all(PATH, verifyKallimaWebhook(options as never), (c) =>
          c.json({ verified: c.var.kallimaEvent.id }),
        );
        return serveForSuite(app, node);
      },
    },
  });
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
const concat = (...parts: (Uint8Array | string)[]) => {
  const arrays = parts.map((part) => (typeof part === "string" ? encoder.encode(part) : part));
  const out = new Uint8Array(arrays.reduce((size, part) => size + part.byteLength, 0));
  let offset = 0;
  for (const part of arrays) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
};
const BOM = new Uint8Array([0xef, 0xbb, 0xbf]);
const eventJson = (id: string) => JSON.stringify(webhookTestEvent({ id }));
/** A JSON event whose `data.webhook_id` holds bytes that are not UTF-8 (0xFF 0xFE). */
const invalidUtf8Event = (id: string) =>
  concat(
    `{"id":"${id}","type":"webhook.test","api_version":"2026-04-23","created_at":"2026-04-23T10:00:00+00:00","data":{"webhook_id":"wh_`,
    new Uint8Array([0xff, 0xfe]),
    `"}}`,
  );
/** The same body after a decode/re-encode round trip, as `c.req.text()` would leave it. */
const reencoded = (bytes: Uint8Array) => encoder.encode(new TextDecoder().decode(bytes));

/** Any Hono app, whatever its bindings. */
type Requester = {
  request: (input: string, init: RequestInit, env?: object) => Response | Promise<Response>;
};

async function post(app: Requester, bytes: Uint8Array, env?: object, headers: object = {}) {
  const signed = await signPayload({ secret: SECRET, payload: bytes });
  const response = await app.request(
    URL_,
    { method: "POST", headers: { ...signed.headers, ...headers }, body: bytes },
    env,
  );
  return { status: response.status, body: await response.text() };
}

const codeOf = (body: string) => (JSON.parse(body) as { error?: { code?: string } }).error?.code;

type Reader = "arrayBuffer" | "bytes" | "blob" | "text" | "json" | "raw";
const readFirst =
  (reader: Reader): MiddlewareHandler =>
  async (c, next) => {
    if (reader === "raw") await c.req.raw.arrayBuffer();
    else await c.req[reader]().catch(() => undefined);
    await next();
  };

describe("raw bytes", () => {
  it("sanity: the fixtures really are a BOM and invalid UTF-8 that do not survive decoding", () => {
    const bom = concat(BOM, eventJson("evt_bom"));
    expect(reencoded(bom)).not.toEqual(bom);
    expect(new TextDecoder().decode(bom).charCodeAt(0)).not.toBe(0xfeff);
    const invalid = invalidUtf8Event("evt_x");
    expect(reencoded(invalid)).not.toEqual(invalid);
  });

  describe.each([
    ["nothing read before", undefined],
    ["c.req.arrayBuffer() read before", "arrayBuffer"],
    ["c.req.bytes() read before", "bytes"],
    ["c.req.blob() read before", "blob"],
  ] as const)("%s", (_label, reader) => {
    const appWith = (seen: VerifiedKallimaEvent[]) => {
      const app = new Hono();
      if (reader) app.use("/kallima-events", readFirst(reader));
      app.all(
        "/kallima-events",
        kallimaWebhooks({
          secret: SECRET,
          on: { "webhook.test": (event) => void seen.push(event) },
        }),
      );
      return app;
    };

    it("verifies a signed body with invalid UTF-8 over its exact bytes (then rejects it as not JSON)", async () => {
      const seen: VerifiedKallimaEvent[] = [];
      const response = await post(appWith(seen), invalidUtf8Event("evt_invalid_utf8"));
      // 400 invalid_payload, not 401: the signature matched the bytes as sent, and the core then
      // refuses a body that is not UTF-8 rather than decode it with replacement characters.
      expect([response.status, codeOf(response.body)]).toEqual([400, "invalid_payload"]);
      expect(seen).toEqual([]);
    });

    it("verifies a signed body with a UTF-8 BOM over its exact bytes (then rejects it as not JSON)", async () => {
      const seen: VerifiedKallimaEvent[] = [];
      const response = await post(appWith(seen), concat(BOM, eventJson("evt_bom")));
      // 400 invalid_payload, not 401: the signature matched, so the BOM was part of what was verified.
      expect([response.status, codeOf(response.body)]).toEqual([400, "invalid_payload"]);
      expect(seen).toEqual([]);
    });

    it("still rejects the re-encoded bytes under the original signature", async () => {
      const bytes = invalidUtf8Event("evt_reencoded");
      const signed = await signPayload({ secret: SECRET, payload: bytes });
      const response = await appWith([]).request(URL_, {
        method: "POST",
        headers: signed.headers,
        body: reencoded(bytes),
      });
      expect(response.status).toBe(401);
    });
  });

  describe.each([
    ["c.req.text()", "text"],
    ["c.req.json()", "json"],
    ["c.req.raw.arrayBuffer()", "raw"],
  ] as const)("after %s consumed the body", (_label, reader) => {
    it.each([
      ["a BOM", () => concat(BOM, eventJson("evt_bom_consumed"))],
      ["invalid UTF-8", () => invalidUtf8Event("evt_invalid_consumed")],
      ["plain JSON", () => encoder.encode(eventJson("evt_plain_consumed"))],
    ])(
      "answers 500 raw_body_unavailable for a body with %s, never verifying re-encoded text",
      async (_kind, body) => {
        let runs = 0;
        const errors: KallimaWebhookError[] = [];
        const app = new Hono();
        app.use("/kallima-events", readFirst(reader));
        app.all(
          "/kallima-events",
          kallimaWebhooks({
            secret: SECRET,
            on: { "webhook.test": () => void runs++ },
            onError: (error) => void errors.push(error),
          }),
        );
        const response = await post(app, body());
        expect([response.status, codeOf(response.body)]).toEqual([500, "raw_body_unavailable"]);
        expect(runs).toBe(0);
        expect(errors.map((error) => error.code)).toEqual(["raw_body_unavailable"]);
        if (reader !== "raw")
          expect(JSON.parse(response.body).error.message).toContain("c.req.arrayBuffer()");
      },
    );
  });

  it("enforces maxBodyBytes on bytes another middleware already cached", async () => {
    const app = new Hono();
    app.use("/kallima-events", readFirst("arrayBuffer"));
    app.all("/kallima-events", kallimaWebhooks({ secret: SECRET, maxBodyBytes: 64 }));
    const response = await post(app, encoder.encode(eventJson("evt_big")));
    expect([response.status, codeOf(response.body)]).toEqual([413, "payload_too_large"]);
  });
});

describe("verifyKallimaWebhook (verify-only)", () => {
  it("sets c.var.kallimaEvent, calls next(), and leaves the exact body readable", async () => {
    const app = new Hono();
    app.all("/kallima-events", verifyKallimaWebhook({ secret: SECRET }), async (c) => {
      const event = c.var.kallimaEvent;
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      return c.json({ id: event.id, type: event.type, bytes: Array.from(bytes) });
    });
    // Not ASCII, with spacing a parse-and-reserialize step would lose.
    const bytes = encoder.encode(
      `{ "id": "evt_verify_only", "type": "webhook.test", "api_version": "2026-04-23",\n  "created_at": "2026-04-23T10:00:00+00:00", "data": { "webhook_id": "wh_é✓" } }`,
    );
    const response = await post(app, bytes);
    expect(response.status).toBe(200);
    const answer = JSON.parse(response.body) as { id: string; type: string; bytes: number[] };
    expect(answer).toMatchObject({ id: "evt_verify_only", type: "webhook.test" });
    expect(answer.bytes).toEqual(Array.from(bytes));
  });

  it("lets the route parse the body with c.req.json() after verification", async () => {
    const app = new Hono();
    app.all("/kallima-events", verifyKallimaWebhook({ secret: SECRET }), async (c) =>
      c.json({ parsed: ((await c.req.json()) as { id: string }).id }),
    );
    const response = await post(app, encoder.encode(eventJson("evt_json_after")));
    expect(JSON.parse(response.body)).toEqual({ parsed: "evt_json_after" });
  });

  it("answers failures itself and does not call next()", async () => {
    let reached = 0;
    const app = new Hono();
    app.all("/kallima-events", verifyKallimaWebhook({ secret: SECRET }), (c) => {
      reached++;
      return c.text("route");
    });
    const stale = await signPayload({
      secret: SECRET,
      payload: eventJson("evt_stale"),
      timestamp: Math.floor(Date.now() / 1000) - 3600,
    });
    const staleResponse = await app.request(URL_, {
      method: "POST",
      headers: stale.headers,
      body: stale.body as string,
    });
    expect(staleResponse.status).toBe(401);
    expect(codeOf(await staleResponse.text())).toBe("timestamp_too_old");
    const unsigned = await app.request(URL_, { method: "POST", body: eventJson("evt_unsigned") });
    expect([unsigned.status, codeOf(await unsigned.text())]).toEqual([400, "missing_signature"]);
    expect(reached).toBe(0);
  });

  it("does not deduplicate: the route sees every authentic delivery", async () => {
    const ids: string[] = [];
    const app = new Hono();
    app.all("/kallima-events", verifyKallimaWebhook({ secret: SECRET }), (c) => {
      ids.push(c.var.kallimaEvent.id);
      return c.body(null, 204);
    });
    const body = encoder.encode(eventJson("evt_twice"));
    expect((await post(app, body)).status).toBe(204);
    expect((await post(app, body)).status).toBe(204);
    expect(ids).toEqual(["evt_twice", "evt_twice"]);
  });
});

describe("secret from the context (Workers bindings)", () => {
  type Bindings = { KALLIMA_WEBHOOK_SECRET?: string };

  it("reads the secret per request, with one dedupe store across requests", async () => {
    let calls = 0;
    const seen: string[] = [];
    const app = new Hono<{ Bindings: Bindings }>();
    app.all(
      "/kallima-events",
      kallimaWebhooks<{ Bindings: Bindings }>({
        secret: async (c) => {
          calls++;
          return c.env.KALLIMA_WEBHOOK_SECRET ?? "";
        },
        on: { "webhook.test": (event) => void seen.push(event.id) },
      }),
    );
    const env = { KALLIMA_WEBHOOK_SECRET: SECRET };
    const body = encoder.encode(eventJson("evt_env_1"));
    const first = await post(app, body, env);
    const second = await post(app, body, { ...env });
    expect([first.status, second.status]).toEqual([200, 200]);
    // The repeat is a duplicate only if both requests share one memory store.
    expect(JSON.parse(second.body)).toMatchObject({ outcome: "duplicate" });
    expect(seen).toEqual(["evt_env_1"]);
    expect(calls).toBe(2);

    // Signed with SECRET but the binding now holds another secret: verified against the binding.
    const rotated = await post(app, body, { KALLIMA_WEBHOOK_SECRET: ROTATED });
    expect([rotated.status, codeOf(rotated.body)]).toEqual([401, "invalid_signature"]);
  });

  it("gives handlers the request's context, so they reach the bindings (c.env)", async () => {
    type WithDb = Bindings & { DB_NAME: string };
    const seen: string[] = [];
    const app = new Hono<{ Bindings: WithDb }>();
    app.all(
      "/kallima-events",
      kallimaWebhooks<{ Bindings: WithDb }>({
        secret: (c) => c.env.KALLIMA_WEBHOOK_SECRET ?? "",
        on: { "webhook.test": (event, c) => void seen.push(`${event.id}→${c.env.DB_NAME}`) },
        onUnhandled: (event, c) => void seen.push(`${event.type}→${c.env.DB_NAME}`),
      }),
    );
    const env = { KALLIMA_WEBHOOK_SECRET: SECRET, DB_NAME: "d1-production" };
    expect((await post(app, encoder.encode(eventJson("evt_ctx_1")), env)).status).toBe(200);
    const future = JSON.stringify({ id: "evt_ctx_2", type: "humanization.completed", data: {} });
    expect(
      (await post(app, encoder.encode(future), { ...env, DB_NAME: "d1-staging" })).status,
    ).toBe(200);
    expect(seen).toEqual(["evt_ctx_1→d1-production", "humanization.completed→d1-staging"]);
  });

  it("shares one store between concurrent first deliveries", async () => {
    let runs = 0;
    const app = new Hono<{ Bindings: Bindings }>();
    app.all(
      "/kallima-events",
      kallimaWebhooks<{ Bindings: Bindings }>({
        secret: (c) => c.env.KALLIMA_WEBHOOK_SECRET ?? "",
        on: {
          "webhook.test": async () => {
            runs++;
            await new Promise((resolve) => setTimeout(resolve, 20));
          },
        },
      }),
    );
    const body = encoder.encode(eventJson("evt_concurrent_env"));
    const env = { KALLIMA_WEBHOOK_SECRET: SECRET };
    const statuses = await Promise.all(
      [1, 2, 3].map(async () => (await post(app, body, env)).status),
    );
    expect(statuses.sort()).toEqual([200, 409, 409]);
    expect(runs).toBe(1);
  });

  it("keeps verifying correctly past the core's cache bound of distinct secrets", async () => {
    const secrets = Array.from(
      { length: 20 },
      (_, i) => `whsec_tenantSecret_${i}_0123456789abcdef`,
    );
    const app = new Hono<{ Bindings: Bindings }>();
    app.all(
      "/kallima-events",
      kallimaWebhooks<{ Bindings: Bindings }>({
        secret: (c) => c.env.KALLIMA_WEBHOOK_SECRET ?? "",
      }),
    );
    for (const round of [0, 1]) {
      for (const [index, secret] of secrets.entries()) {
        const signed = await signPayload({ secret, payload: eventJson(`evt_t${index}_${round}`) });
        const response = await app.request(
          URL_,
          { method: "POST", headers: signed.headers, body: signed.body as string },
          { KALLIMA_WEBHOOK_SECRET: secret },
        );
        expect(response.status).toBe(200);
        const wrong = await app.request(
          URL_,
          { method: "POST", headers: signed.headers, body: signed.body as string },
          { KALLIMA_WEBHOOK_SECRET: secrets[(index + 1) % secrets.length] },
        );
        expect(wrong.status).toBe(401);
      }
    }
  });

  it("accepts a list of secrets from the context during a rotation", async () => {
    const app = new Hono();
    app.all("/kallima-events", kallimaWebhooks({ secret: () => [ROTATED, SECRET] }));
    expect((await post(app, encoder.encode(eventJson("evt_list")))).status).toBe(200);
  });

  it("answers a coded 500 when the binding is missing, and tells onError", async () => {
    const errors: string[] = [];
    const app = new Hono<{ Bindings: Bindings }>();
    app.all(
      "/kallima-events",
      kallimaWebhooks<{ Bindings: Bindings }>({
        secret: (c) => c.env.KALLIMA_WEBHOOK_SECRET as string,
        onError: (error) => void errors.push(error.code),
      }),
    );
    const response = await post(app, encoder.encode(eventJson("evt_nokey")), {});
    expect([response.status, codeOf(response.body)]).toEqual([500, "invalid_secret"]);
    expect(errors).toEqual(["invalid_secret"]);
    expect(response.body).not.toContain("whsec_");
  });

  it("lets a secret function's own error through to Hono's error handler", async () => {
    const app = new Hono();
    app.all(
      "/kallima-events",
      kallimaWebhooks({
        secret: () => {
          throw new Error("secrets store unreachable");
        },
      }),
    );
    app.onError((error, c) => c.text(`app saw: ${error.message}`, 503));
    const response = await post(app, encoder.encode(eventJson("evt_throw")));
    expect([response.status, response.body]).toEqual([503, "app saw: secrets store unreachable"]);
  });
});

describe("methods", () => {
  it.each(["GET", "PUT", "PATCH", "DELETE"])(
    "answers %s with the core's 405 and Allow: POST when mounted with app.all()",
    async (method) => {
      let runs = 0;
      const app = new Hono();
      app.all(PATH, kallimaWebhooks({ secret: SECRET, on: { "webhook.test": () => void runs++ } }));
      const signed = await signPayload({ secret: SECRET, payload: eventJson("evt_method") });
      const init: RequestInit = { method, headers: signed.headers };
      if (method !== "GET") init.body = signed.body as string;
      const response = await app.request(URL_, init);
      expect([response.status, response.headers.get("allow")]).toEqual([405, "POST"]);
      expect(codeOf(await response.text())).toBe("method_not_allowed");
      expect(runs).toBe(0);
    },
  );

  it("answers another method in verify-only mode too, without calling next()", async () => {
    let reached = 0;
    const app = new Hono();
    app.all(PATH, verifyKallimaWebhook({ secret: SECRET }), (c) => {
      reached++;
      return c.text("route");
    });
    const response = await app.request(URL_, { method: "DELETE" });
    expect([response.status, response.headers.get("allow")]).toEqual([405, "POST"]);
    expect(reached).toBe(0);
  });

  it("leaves other methods to Hono when mounted with app.on(['POST'])", async () => {
    const app = new Hono();
    app.on(["POST"], PATH, kallimaWebhooks({ secret: SECRET }));
    expect((await app.request(URL_, { method: "PUT" })).status).toBe(404);
  });
});

describe("handlers and the context", () => {
  it("gives handlers c, with the body still readable through c.req", async () => {
    const seen: unknown[] = [];
    const app = new Hono();
    app.all(
      PATH,
      kallimaWebhooks({
        secret: SECRET,
        on: {
          "webhook.test": async (event, c) => {
            seen.push(event.id, ((await c.req.json()) as { id: string }).id, c.req.path);
          },
        },
      }),
    );
    expect((await post(app, encoder.encode(eventJson("evt_ctx_body")))).status).toBe(200);
    expect(seen).toEqual(["evt_ctx_body", "evt_ctx_body", PATH]);
  });

  it("gives the secret function the same c as the handlers", async () => {
    const contexts: unknown[] = [];
    const app = new Hono();
    app.all(
      PATH,
      kallimaWebhooks({
        secret: (c) => {
          contexts.push(c);
          return SECRET;
        },
        on: { "webhook.test": (_event, c) => void contexts.push(c) },
      }),
    );
    expect((await post(app, encoder.encode(eventJson("evt_same_c")))).status).toBe(200);
    expect(contexts).toHaveLength(2);
    expect(contexts[0]).toBeInstanceOf(Context);
    expect(contexts[1]).toBe(contexts[0]);
  });
});

describe("logging", () => {
  it("logs a rejected delivery to console by default, and nothing with logger: false", async () => {
    const warn = vi.mocked(console.warn);
    const unsigned = { method: "POST", body: eventJson("evt_unsigned_log") };
    const app = new Hono();
    app.all(PATH, kallimaWebhooks({ secret: SECRET }));
    expect((await app.request(URL_, unsigned)).status).toBe(400);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toContain("missing_signature");

    warn.mockClear();
    const quiet = new Hono();
    quiet.all(PATH, kallimaWebhooks({ secret: SECRET, logger: false }));
    quiet.all("/verify", verifyKallimaWebhook({ secret: SECRET, logger: false }), (c) =>
      c.text("route"),
    );
    expect((await quiet.request(URL_, unsigned)).status).toBe(400);
    expect((await quiet.request("http://localhost/verify", unsigned)).status).toBe(400);
    expect(warn).not.toHaveBeenCalled();
  });
});

describe("construction", () => {
  it("throws WebhookConfigError at start-up for a bad static secret", () => {
    expect(() => kallimaWebhooks({ secret: "not-a-secret" })).toThrow(WebhookConfigError);
    expect(() => verifyKallimaWebhook({ secret: "" })).toThrow(WebhookConfigError);
  });

  it("refuses handler options in verify-only mode, naming the helper", () => {
    const attempt = () => verifyKallimaWebhook({ secret: SECRET, idempotency: false } as never);
    expect(attempt).toThrow(WebhookConfigError);
    expect(attempt).toThrow(/verifyKallimaWebhook only verifies.*`idempotency`/);
  });

  it("accepts a handler made with createWebhookHandler, with handlers added by .on()", async () => {
    const seen: string[] = [];
    const handler = createWebhookHandler({
      secret: SECRET,
      idempotency: { store: memoryStore() },
    }).on("webhook.test", (event) => void seen.push(event.data.webhook_id));
    const app = new Hono();
    app.all("/kallima-events", kallimaWebhooks(handler));
    const response = await post(
      app,
      encoder.encode(JSON.stringify(webhookTestEvent({ id: "evt_h" }))),
    );
    expect(response.status).toBe(200);
    expect(seen).toHaveLength(1);
  });

  it("keeps headers set by earlier middleware on the answer", async () => {
    const app = new Hono();
    app.use("*", async (c, next) => {
      c.header("x-request-id", "req_1");
      await next();
    });
    app.all("/kallima-events", kallimaWebhooks({ secret: SECRET }));
    const delivery = signDelivery("{}");
    const response = await app.request(URL_, { method: "POST", ...delivery });
    expect(response.status).toBe(401);
    expect(response.headers.get("x-request-id")).toBe("req_1");
    expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
  });
});
