import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { KallimaClient } from "./index.js";
import { startTestApiServer, type TestApiServer } from "./test-support/api-server.js";

let api: TestApiServer;
const API_KEY = "kal_live_TOPSECRETapikey0123456789";
const consoleMethods = ["log", "info", "warn", "error", "debug", "trace"] as const;

beforeAll(async () => {
  api = await startTestApiServer({ apiKey: API_KEY });
});
afterAll(() => api.close());
beforeEach(() => {
  for (const method of consoleMethods) vi.spyOn(console, method);
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Everything a person could end up printing: messages, stacks, causes, inspected objects. */
function printable(value: unknown): string {
  return [
    inspect(value, { depth: 10, showHidden: true }),
    JSON.stringify(value) ?? "",
    String(value),
  ].join("\n");
}

describe("the API key and the signing secrets are never logged nor shown", () => {
  it("nothing is written to the console, and the client does not show its key", async () => {
    const kallima = new KallimaClient({ apiKey: API_KEY, baseUrl: api.baseUrl, retryDelayMs: 1 });
    const hook = await kallima.webhooks.create({ url: "https://example.com/s" });
    const rotated = await kallima.webhooks.rotateSecret(hook.id);
    await kallima.webhooks.list();
    api.script.push(
      { status: 500, body: { title: "boom" } },
      { status: 500, body: { title: "boom" } },
    );
    await kallima.webhooks.retrieve(hook.id);
    for (const method of consoleMethods) expect(console[method]).not.toHaveBeenCalled();
    expect(printable(kallima)).not.toContain(API_KEY);
    expect(printable(kallima.webhooks)).not.toContain(API_KEY);
    for (const secret of [hook.secret, rotated.secret])
      expect(printable(kallima)).not.toContain(secret);
  });

  it("errors of every kind hold neither the key nor a secret", async () => {
    const kallima = new KallimaClient({
      apiKey: API_KEY,
      baseUrl: api.baseUrl,
      retryDelayMs: 1,
      timeoutMs: 100,
    });
    const hook = await kallima.webhooks.create({ url: "https://example.com/e" });
    const errors: unknown[] = [];
    errors.push(await kallima.webhooks.retrieve("missing").catch((e: unknown) => e));
    api.script.push({
      status: 429,
      headers: { "retry-after": "600" },
      body: { code: "rate_limited" },
    });
    errors.push(await kallima.webhooks.list().catch((e: unknown) => e));
    api.script.push({ hang: true });
    // test() waits 30 s more than the client's timeout by default (Kallima's, on the endpoint).
    errors.push(await kallima.webhooks.test(hook.id, { timeoutMs: 100 }).catch((e: unknown) => e));
    api.script.push({ reset: true });
    errors.push(await kallima.webhooks.rotateSecret(hook.id).catch((e: unknown) => e));
    const closed = await startTestApiServer();
    await closed.close();
    const nowhere = new KallimaClient({ apiKey: API_KEY, baseUrl: closed.baseUrl, maxRetries: 0 });
    errors.push(await nowhere.webhooks.list().catch((e: unknown) => e));
    const wrongKey = new KallimaClient({ apiKey: `${API_KEY}_wrong`, baseUrl: api.baseUrl });
    errors.push(await wrongKey.webhooks.list().catch((e: unknown) => e));

    expect(errors.map((error) => (error as { code?: string }).code)).toEqual([
      "not_found",
      "rate_limited",
      "timeout",
      "connection_failed",
      "connection_failed",
      "invalid_api_key",
    ]);
    for (const error of errors) {
      expect(error).toBeInstanceOf(Error);
      expect(printable(error)).not.toContain(API_KEY);
      expect(printable(error)).not.toContain(hook.secret);
    }
    for (const method of consoleMethods) expect(console[method]).not.toHaveBeenCalled();
  });
});
