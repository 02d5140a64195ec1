import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  KallimaClient,
  KallimaConnectionError,
  RateLimitError,
  ServerError,
  type Webhook,
} from "./index.js";
import { startTestApiServer, type TestApiServer } from "./test-support/api-server.js";

let api: TestApiServer;
let kallima: KallimaClient;
let hook: Webhook;

const problem = (status: number, code: string) => ({
  status,
  body: { type: "about:blank", title: code, status, code, request_id: `req_${code}` },
});

beforeAll(async () => {
  api = await startTestApiServer();
  // Short backoffs: these tests are about which calls are retried, not how long the waits are.
  kallima = new KallimaClient({
    apiKey: api.apiKey,
    baseUrl: api.baseUrl,
    retryDelayMs: 20,
    timeoutMs: 2000,
  });
  hook = await kallima.webhooks.create({ url: "https://example.com/retries" });
});
afterAll(() => api.close());
beforeEach(() => {
  api.requests.length = 0;
  api.script.length = 0;
});

describe("retries of idempotent calls", () => {
  it("429 with Retry-After: waits that long, then succeeds", async () => {
    api.script.push({ ...problem(429, "rate_limited"), headers: { "retry-after": "1" } });
    const fetched = await kallima.webhooks.retrieve(hook.id);
    expect(fetched.id).toBe(hook.id);
    expect(api.requests).toHaveLength(2);
    expect(api.requests[1]!.at - api.requests[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it("Retry-After as an HTTP date is honoured too", async () => {
    const inTwoSeconds = new Date(Date.now() + 2000).toUTCString();
    api.script.push({ ...problem(429, "rate_limited"), headers: { "retry-after": inTwoSeconds } });
    await kallima.webhooks.list();
    expect(api.requests).toHaveLength(2);
    expect(api.requests[1]!.at - api.requests[0]!.at).toBeGreaterThanOrEqual(500);
  });

  it("a Retry-After longer than maxRetryDelayMs is not waited for: RateLimitError says how long", async () => {
    api.script.push({ ...problem(429, "rate_limited"), headers: { "retry-after": "3600" } });
    const error = await kallima.webhooks.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, code: "rate_limited", retryAfterSeconds: 3600 });
    expect(api.requests).toHaveLength(1);
  });

  it("500, 502 then success: three attempts (the default two retries)", async () => {
    api.script.push(problem(500, "internal"), { status: 502, raw: "<html>bad gateway</html>" });
    await expect(kallima.webhooks.list()).resolves.toBeInstanceOf(Array);
    expect(api.requests).toHaveLength(3);
  });

  it("5xx on every attempt: ServerError after maxRetries + 1 attempts, backing off", async () => {
    api.script.push(problem(503, "a"), problem(503, "b"), problem(503, "c"), problem(503, "d"));
    const error = await kallima.webhooks.retrieve(hook.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ status: 503, code: "c", requestId: "req_c" });
    expect(api.requests).toHaveLength(3);
    const [a, b, c] = api.requests.map((r) => r.at) as [number, number, number];
    // 20 ms then 40 ms nominal, each at least half of it.
    expect(b - a).toBeGreaterThanOrEqual(9);
    expect(c - b).toBeGreaterThanOrEqual(19);
  });

  it("maxRetries per call and per client", async () => {
    api.script.push(problem(500, "a"), problem(500, "b"));
    await expect(kallima.webhooks.list({ maxRetries: 0 })).rejects.toBeInstanceOf(ServerError);
    expect(api.requests).toHaveLength(1);
    api.requests.length = 0;
    api.script.length = 0;
    const patient = new KallimaClient({
      apiKey: api.apiKey,
      baseUrl: api.baseUrl,
      maxRetries: 4,
      retryDelayMs: 1,
    });
    api.script.push(problem(500, "a"), problem(500, "b"), problem(500, "c"), problem(500, "d"));
    await expect(patient.webhooks.list()).resolves.toBeInstanceOf(Array);
    expect(api.requests).toHaveLength(5);
  });

  it("PATCH update, DELETE and GET deliveries are retried (idempotent)", async () => {
    api.script.push(problem(500, "x"));
    await kallima.webhooks.update(hook.id, { enabled: true });
    api.script.push(problem(500, "x"));
    await kallima.webhooks.listDeliveries(hook.id);
    const doomed = await kallima.webhooks.create({ url: "https://example.com/doomed" });
    api.requests.length = 0;
    api.script.push(problem(500, "x"));
    await kallima.webhooks.delete(doomed.id);
    expect(api.requests.map((r) => r.method)).toEqual(["DELETE", "DELETE"]);
  });

  it("a reset connection is retried like a 5xx", async () => {
    api.script.push({ reset: true });
    await expect(kallima.webhooks.retrieve(hook.id)).resolves.toMatchObject({ id: hook.id });
    expect(api.requests).toHaveLength(2);
  });

  it("an unreachable server: connection_failed after the retries", async () => {
    const closed = await startTestApiServer();
    await closed.close();
    const nowhere = new KallimaClient({ apiKey: "k", baseUrl: closed.baseUrl, retryDelayMs: 1 });
    const error = await nowhere.webhooks.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KallimaConnectionError);
    expect(error).toMatchObject({ code: "connection_failed" });
    expect((error as Error).message).toContain("ECONNREFUSED");
  });
});

describe("never retried", () => {
  it.each([400, 401, 403, 404, 409, 422])(
    "a %i answer (other 4xx) is thrown at once",
    async (status) => {
      api.script.push(problem(status, `code_${status}`));
      await expect(kallima.webhooks.list()).rejects.toMatchObject({
        status,
        code: `code_${status}`,
      });
      expect(api.requests).toHaveLength(1);
    },
  );

  it.each([
    ["create", () => kallima.webhooks.create({ url: "https://example.com/once" })],
    ["rotateSecret", () => kallima.webhooks.rotateSecret(hook.id)],
    ["test", () => kallima.webhooks.test(hook.id)],
    ["retryDelivery", () => kallima.webhooks.retryDelivery("00000000-0000-0000-0000-000000000000")],
  ])(
    "%s (not idempotent, no Idempotency-Key in the API) on 500, 429 or a reset",
    async (_name, call) => {
      for (const answer of [
        problem(500, "internal"),
        { ...problem(429, "rate_limited"), headers: { "retry-after": "0" } },
        { reset: true } as const,
      ]) {
        api.requests.length = 0;
        api.script.length = 0;
        api.script.push(answer, problem(200, "would_succeed"));
        await expect(call()).rejects.toBeInstanceOf(Error);
        expect(api.requests).toHaveLength(1);
      }
    },
  );
});

describe("timeouts and aborts", () => {
  it("a server that never answers: timeout, retried for a GET", async () => {
    const quick = new KallimaClient({
      apiKey: api.apiKey,
      baseUrl: api.baseUrl,
      timeoutMs: 150,
      retryDelayMs: 1,
      maxRetries: 1,
    });
    api.script.push({ hang: true }, { hang: true });
    const started = performance.now();
    const error = await quick.webhooks.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KallimaConnectionError);
    expect(error).toMatchObject({ code: "timeout", message: "No answer within 150 ms." });
    expect(api.requests).toHaveLength(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it("a timeout of a POST is not retried (it may have been done)", async () => {
    api.script.push({ hang: true });
    const error = await kallima.webhooks.test(hook.id, { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "timeout" });
    expect(api.requests).toHaveLength(1);
  });

  it("test and retryDelivery wait the client's timeout plus Kallima's 30 s on the endpoint", async () => {
    const quick = new KallimaClient({
      apiKey: api.apiKey,
      baseUrl: api.baseUrl,
      timeoutMs: 100,
      maxRetries: 0,
    });
    const delivery = await kallima.webhooks.test(hook.id);
    api.requests.length = 0;
    const slow = { status: 200, body: delivery, delayMs: 300 };
    api.script.push(slow, slow, { ...slow, body: [] });
    await expect(quick.webhooks.test(hook.id)).resolves.toEqual(delivery);
    await expect(quick.webhooks.retryDelivery(delivery.id)).resolves.toEqual(delivery);
    // Any other call, and a call given its own timeout, waits only that.
    await expect(quick.webhooks.list()).rejects.toMatchObject({ code: "timeout" });
    api.script.push(slow);
    await expect(quick.webhooks.test(hook.id, { timeoutMs: 100 })).rejects.toMatchObject({
      code: "timeout",
      message: "No answer within 100 ms.",
    });
  });

  it("the caller's signal aborts the call and any wait for a retry", async () => {
    api.script.push({ ...problem(503, "busy"), headers: { "retry-after": "5" } });
    const controller = new AbortController();
    const patient = new KallimaClient({
      apiKey: api.apiKey,
      baseUrl: api.baseUrl,
      maxRetryDelayMs: 10_000,
    });
    const call = patient.webhooks.list({ signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(call).rejects.toMatchObject({ name: "KallimaConnectionError", code: "aborted" });
    expect(api.requests).toHaveLength(1);

    api.script.push({ hang: true });
    const hanging = new AbortController();
    const pending = kallima.webhooks.list({ signal: hanging.signal });
    setTimeout(() => hanging.abort(), 50);
    await expect(pending).rejects.toMatchObject({ code: "aborted" });
  });
});
