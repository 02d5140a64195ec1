import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  AuthenticationError,
  BadRequestError,
  KallimaApiError,
  KallimaClient,
  KallimaConnectionError,
  KallimaError,
  NotFoundError,
} from "./index.js";
import { startTestApiServer, type TestApiServer } from "./test-support/api-server.js";

let api: TestApiServer;
let kallima: KallimaClient;

beforeAll(async () => {
  api = await startTestApiServer();
  kallima = new KallimaClient({ apiKey: api.apiKey, baseUrl: api.baseUrl, retryDelayMs: 10 });
});
afterAll(() => api.close());
beforeEach(() => {
  api.requests.length = 0;
  api.script.length = 0;
  api.listEnvelope = false;
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("webhooks: the wire shapes of the endpoints API", () => {
  it("create POSTs { url, events, enabled } with the API key and answers the secret once", async () => {
    const hook = await kallima.webhooks.create({
      url: "https://example.com/kallima-events",
      events: ["job.completed", "job.failed"],
    });
    expect(hook).toEqual({
      id: expect.stringMatching(UUID),
      object: "webhook",
      url: "https://example.com/kallima-events",
      enabled: true,
      events: ["job.completed", "job.failed"],
      created_at: expect.any(String),
      updated_at: expect.any(String),
      secret: expect.stringMatching(/^whsec_/),
    });
    expect(api.requests).toEqual([
      expect.objectContaining({
        method: "POST",
        path: "/v1/webhooks",
        body: {
          url: "https://example.com/kallima-events",
          events: ["job.completed", "job.failed"],
        },
        headers: expect.objectContaining({
          authorization: `Bearer ${api.apiKey}`,
          "content-type": "application/json",
        }),
      }),
    ]);
    const fetched = await kallima.webhooks.retrieve(hook.id);
    expect(fetched).not.toHaveProperty("secret");
    expect(fetched).toMatchObject({ id: hook.id, url: hook.url });
  });

  it("an empty events list is sent as [] (every type) and answered as null", async () => {
    const hook = await kallima.webhooks.create({
      url: "https://example.com/all",
      events: [],
      enabled: false,
    });
    expect(api.requests[0]!.body).toEqual({
      url: "https://example.com/all",
      events: [],
      enabled: false,
    });
    expect(hook).toMatchObject({ events: null, enabled: false });
  });

  it("list answers every endpoint newest first, without secrets, as an array or a list object", async () => {
    const first = await kallima.webhooks.create({ url: "https://example.com/first" });
    const second = await kallima.webhooks.create({ url: "https://example.com/second" });
    for (const envelope of [false, true]) {
      api.listEnvelope = envelope;
      const hooks = await kallima.webhooks.list();
      const ids = hooks.map((hook) => hook.id);
      expect(ids.indexOf(second.id)).toBeLessThan(ids.indexOf(first.id));
      expect(ids.indexOf(first.id)).toBeGreaterThanOrEqual(0);
      for (const hook of hooks) expect(hook).not.toHaveProperty("secret");
    }
    expect(api.requests.at(-1)).toMatchObject({ method: "GET", path: "/v1/webhooks" });
  });

  it("update PATCHes only the given fields; enable and disable flip enabled", async () => {
    const hook = await kallima.webhooks.create({
      url: "https://example.com/u",
      events: ["job.failed"],
    });
    const updated = await kallima.webhooks.update(hook.id, { url: "https://example.com/v" });
    expect(api.requests.at(-1)).toMatchObject({
      method: "PATCH",
      path: `/v1/webhooks/${hook.id}`,
      query: {},
      body: { url: "https://example.com/v" },
    });
    expect(updated).toMatchObject({ url: "https://example.com/v", events: ["job.failed"] });
    expect(updated).not.toHaveProperty("secret");
    expect(await kallima.webhooks.update(hook.id, { events: null })).toMatchObject({
      events: null,
    });
    expect(await kallima.webhooks.disable(hook.id)).toMatchObject({ enabled: false });
    expect(api.requests.at(-1)!.body).toEqual({ enabled: false });
    expect(await kallima.webhooks.enable(hook.id)).toMatchObject({ enabled: true });
    expect(api.requests.at(-1)!.body).toEqual({ enabled: true });
  });

  it("rotateSecret PATCHes with rotate_secret=true and answers the new secret", async () => {
    const hook = await kallima.webhooks.create({ url: "https://example.com/r" });
    const rotated = await kallima.webhooks.rotateSecret(hook.id);
    expect(api.requests.at(-1)).toMatchObject({
      method: "PATCH",
      path: `/v1/webhooks/${hook.id}`,
      query: { rotate_secret: "true" },
    });
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(hook.secret);
    expect(api.secretOf(hook.id)).toBe(rotated.secret);
  });

  it("delete answers nothing; the endpoint is then gone (NotFoundError from problem+json)", async () => {
    const hook = await kallima.webhooks.create({ url: "https://example.com/d" });
    await expect(kallima.webhooks.delete(hook.id)).resolves.toBeUndefined();
    expect(api.requests.at(-1)).toMatchObject({
      method: "DELETE",
      path: `/v1/webhooks/${hook.id}`,
    });
    const error = await kallima.webhooks.retrieve(hook.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toBeInstanceOf(KallimaApiError);
    expect(error).toBeInstanceOf(KallimaError);
    expect(error).toMatchObject({
      name: "NotFoundError",
      status: 404,
      code: "not_found",
      title: "Not found",
      detail: `No webhook ${hook.id}.`,
      type: "https://docs.kallima.example/problems/not-found",
      instance: `/v1/webhooks/${hook.id}`,
      requestId: expect.stringMatching(/^req_/),
    });
    expect((error as Error).message).toContain("status 404, code not_found, request req_");
  });

  it("test POSTs to the inferred path and answers a delivery record", async () => {
    const hook = await kallima.webhooks.create({ url: "https://example.com/t" });
    const delivery = await kallima.webhooks.test(hook.id);
    expect(api.requests.at(-1)).toMatchObject({
      method: "POST",
      path: `/v1/webhooks/${hook.id}/test`,
    });
    expect(delivery).toMatchObject({
      id: expect.stringMatching(UUID),
      object: "webhook_delivery",
      webhook_id: hook.id,
      event_id: expect.any(String),
      event_type: "webhook.test",
      response_status: 200,
      attempts: 1,
    });
  });

  it("listDeliveries sends limit, and retryDelivery POSTs to the delivery's inferred path", async () => {
    const hook = await kallima.webhooks.create({ url: "https://example.com/h" });
    const older = await kallima.webhooks.test(hook.id);
    const newer = await kallima.webhooks.test(hook.id);
    for (const envelope of [false, true]) {
      api.listEnvelope = envelope;
      expect((await kallima.webhooks.listDeliveries(hook.id)).map((d) => d.id)).toEqual([
        newer.id,
        older.id,
      ]);
    }
    const limited = await kallima.webhooks.listDeliveries(hook.id, { limit: 1 });
    expect(api.requests.at(-1)).toMatchObject({
      method: "GET",
      path: `/v1/webhooks/${hook.id}/deliveries`,
      query: { limit: "1" },
    });
    expect(limited.map((d) => d.id)).toEqual([newer.id]);
    const retried = await kallima.webhooks.retryDelivery(older.id);
    expect(api.requests.at(-1)).toMatchObject({
      method: "POST",
      path: `/v1/webhook_deliveries/${older.id}/retry`,
    });
    expect(retried).toMatchObject({ id: older.id, event_id: older.event_id, attempts: 2 });
  });

  it("the inferred paths can be replaced per call and per client", async () => {
    const hook = await kallima.webhooks.create({ url: "https://example.com/p" });
    api.script.push({ status: 200, body: { id: "d1", object: "webhook_delivery" } });
    await kallima.webhooks.test(hook.id, { path: "/v1/webhooks/{webhook_id}/send_test" });
    expect(api.requests.at(-1)!.path).toBe(`/v1/webhooks/${hook.id}/send_test`);

    const custom = new KallimaClient({
      apiKey: api.apiKey,
      baseUrl: api.baseUrl,
      paths: {
        deliveries: "/v2/hooks/{webhook_id}/attempts",
        retryDelivery: "/v2/redeliver/{delivery_id}",
      },
    });
    api.script.push({ status: 200, body: [] }, { status: 200, body: { id: "d1" } });
    await custom.webhooks.listDeliveries(hook.id, { limit: 5 });
    await custom.webhooks.retryDelivery("d 1/x");
    expect(api.requests.slice(-2).map((r) => r.path)).toEqual([
      `/v2/hooks/${hook.id}/attempts`,
      "/v2/redeliver/d%201%2Fx",
    ]);
  });

  it("a base URL with a path prefix keeps it", async () => {
    const prefixed = new KallimaClient({ apiKey: api.apiKey, baseUrl: `${api.baseUrl}/gateway/` });
    api.script.push({ status: 200, body: [] });
    await prefixed.webhooks.list();
    expect(api.requests.at(-1)!.path).toBe("/gateway/v1/webhooks");
  });
});

describe("errors", () => {
  it("a wrong API key: AuthenticationError with the server's code", async () => {
    const wrong = new KallimaClient({ apiKey: "kal_wrong", baseUrl: api.baseUrl });
    const error = await wrong.webhooks.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ status: 401, code: "invalid_api_key" });
  });

  it("a 400 from the API: BadRequestError with the problem's fields", async () => {
    const error = await kallima.webhooks.create({ url: "ftp://nope" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({
      status: 400,
      code: "invalid_url",
      detail: "url must be an http(s) URL.",
    });
  });

  it("402 insufficient_credits keeps the code and the problem's extension members", async () => {
    api.script.push({
      status: 402,
      body: {
        type: "https://docs.kallima.example/problems/insufficient-credits",
        title: "Insufficient credits",
        status: 402,
        detail: "This organisation has no credits left.",
        code: "insufficient_credits",
        request_id: "req_body_id",
        balance: 0,
      },
    });
    const error = await kallima.webhooks.create({ url: "https://example.com/c" }).catch((e) => e);
    expect(error).toMatchObject({
      name: "PaymentRequiredError",
      status: 402,
      code: "insufficient_credits",
      requestId: "req_body_id",
      problem: expect.objectContaining({ balance: 0 }),
    });
  });

  it("an answer that is not problem+json still gives a typed error with a fallback code", async () => {
    api.script.push({
      status: 418,
      raw: "<html>teapot</html>",
      headers: { "x-request-id": "req_hdr" },
    });
    const error = await kallima.webhooks.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KallimaApiError);
    expect(error).toMatchObject({ status: 418, code: "http_error", requestId: "req_hdr" });
    expect((error as KallimaApiError).detail).toContain("teapot");
  });

  it("a 2xx answer that is not JSON: invalid_response", async () => {
    api.script.push({ status: 200, raw: "<html>login page</html>" });
    const error = await kallima.webhooks.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KallimaConnectionError);
    expect(error).toMatchObject({ code: "invalid_response" });
  });

  it("create or rotate answered without a secret: invalid_response (it would be lost)", async () => {
    api.script.push({ status: 201, body: { id: "x", object: "webhook", url: "https://e.com" } });
    await expect(kallima.webhooks.create({ url: "https://e.com" })).rejects.toMatchObject({
      code: "invalid_response",
    });
  });

  it.each([
    ["retrieve", () => kallima.webhooks.retrieve("")],
    ["update", () => kallima.webhooks.update(" ", { enabled: true })],
    ["delete", () => kallima.webhooks.delete("")],
    ["test", () => kallima.webhooks.test("")],
    ["listDeliveries", () => kallima.webhooks.listDeliveries("")],
    ["listDeliveries limit", () => kallima.webhooks.listDeliveries("id", { limit: 0 })],
    ["retryDelivery", () => kallima.webhooks.retryDelivery("")],
    ["create without url", () => kallima.webhooks.create({ url: "" })],
    [
      "a path that leaves a placeholder",
      () => kallima.webhooks.retryDelivery("d", { path: "/v1/{webhook_id}/retry" }),
    ],
  ])("%s with a bad argument: invalid_argument, nothing sent", async (_name, call) => {
    await expect(call()).rejects.toMatchObject({
      name: "KallimaConnectionError",
      code: "invalid_argument",
    });
    expect(api.requests).toEqual([]);
  });

  it("refuses a missing API key and a base URL that is not http(s)", () => {
    expect(() => new KallimaClient({ apiKey: "" })).toThrow(
      expect.objectContaining({ code: "invalid_argument" }),
    );
    expect(() => new KallimaClient({ apiKey: "k", baseUrl: "//no-scheme" })).toThrow(/not a URL/);
    expect(() => new KallimaClient({ apiKey: "k", baseUrl: "ftp://x" })).toThrow(/not http/);
  });
});
