import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
// The client's own test server: Kallima's endpoints API in PROTOCOL.md's shapes.
import {
  startTestApiServer,
  type TestApiServer,
} from "../../client/src/test-support/api-server.js";
import { runCli } from "./index.js";
import { captureIO } from "./test-support.js";

let api: TestApiServer;
let env: Record<string, string>;

beforeAll(async () => {
  api = await startTestApiServer();
  env = { KALLIMA_API_KEY: api.apiKey, KALLIMA_BASE_URL: api.baseUrl };
});
afterAll(() => api.close());
beforeEach(() => {
  api.script.length = 0;
  api.requests.length = 0;
});

async function endpoints(args: string[], environment: Record<string, string> = env) {
  const io = captureIO({ env: environment });
  const code = await runCli(["endpoints", ...args], io);
  return { code, out: io.out(), err: io.err() };
}

async function created(url = "https://example.com/kallima-events", extra: string[] = []) {
  const result = await endpoints(["create", url, "--json", ...extra]);
  expect(result.code, result.err).toBe(0);
  return JSON.parse(result.out) as { id: string; secret: string; events: string[] | null };
}

describe("kallima-webhooks endpoints, against a real server of the endpoints API", () => {
  it("create prints the endpoint and its secret once, with a warning to store it", async () => {
    const result = await endpoints([
      "create",
      "https://example.com/a",
      "--events",
      "job.completed,job.failed",
    ]);
    expect(result.code, result.err).toBe(0);
    const request = api.requests.at(-1)!;
    expect(request).toMatchObject({
      method: "POST",
      path: "/v1/webhooks",
      body: { url: "https://example.com/a", events: ["job.completed", "job.failed"] },
      headers: expect.objectContaining({ authorization: `Bearer ${api.apiKey}` }),
    });
    const [id] = /[0-9a-f-]{36}/.exec(result.out)!;
    const secret = api.secretOf(id)!;
    expect(result.out).toContain("✓ registered");
    expect(result.out).toContain("events: job.completed, job.failed");
    expect(result.out.split(secret)).toHaveLength(2); // printed exactly once
    expect(result.out).toMatch(/store it now .*not shown again/);
    expect(result.out).not.toContain(api.apiKey);
  });

  it("create --json answers the webhook object with its secret; no --events means every type", async () => {
    const hook = await created("https://example.com/all", ["--disabled"]);
    expect(api.requests.at(-1)!.body).toEqual({ url: "https://example.com/all", enabled: false });
    expect(hook).toMatchObject({
      object: "webhook",
      events: null,
      enabled: false,
      secret: expect.stringMatching(/^whsec_/),
    });
  });

  it("list prints a table newest first, without secrets; --json the objects", async () => {
    const older = await created("https://example.com/older");
    const newer = await created("https://example.com/newer");
    const text = await endpoints(["list"]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^ID\s+STATE\s+EVENTS\s+URL/);
    expect(text.out.indexOf(newer.id)).toBeLessThan(text.out.indexOf(older.id));
    expect(text.out).not.toContain("whsec_");
    const json = await endpoints(["list", "--json"]);
    const hooks = JSON.parse(json.out) as { id: string }[];
    expect(hooks.map((hook) => hook.id)).toEqual(expect.arrayContaining([older.id, newer.id]));
    expect(json.out).not.toContain("whsec_");
  });

  it("get shows one endpoint", async () => {
    const hook = await created("https://example.com/get");
    const result = await endpoints(["get", hook.id]);
    expect(result.code).toBe(0);
    expect(result.out).toContain(hook.id);
    expect(result.out).toContain("https://example.com/get");
    expect(result.out).toContain("enabled · events: every event type");
    expect(JSON.parse((await endpoints(["get", hook.id, "--json"])).out)).toMatchObject({
      id: hook.id,
    });
  });

  it("update changes url, events and state; with nothing to change it is a usage error", async () => {
    const hook = await created("https://example.com/u");
    const result = await endpoints([
      "update",
      hook.id,
      "--url",
      "https://example.com/v",
      "--events",
      "job.failed",
      "--json",
    ]);
    expect(result.code, result.err).toBe(0);
    expect(api.requests.at(-1)).toMatchObject({
      method: "PATCH",
      body: { url: "https://example.com/v", events: ["job.failed"] },
    });
    expect(JSON.parse(result.out)).toMatchObject({
      url: "https://example.com/v",
      events: ["job.failed"],
    });
    await endpoints(["update", hook.id, "--all-events", "--disable"]);
    expect(api.requests.at(-1)!.body).toEqual({ events: null, enabled: false });
    const nothing = await endpoints(["update", hook.id]);
    expect(nothing.code).toBe(2);
    expect(nothing.err).toContain("Nothing to update");
    expect((await endpoints(["update", hook.id, "--enable", "--disable"])).code).toBe(2);
    expect((await endpoints(["update", hook.id, "--events", "job.failed,"])).code).toBe(2);
  });

  it("enable and disable", async () => {
    const hook = await created("https://example.com/e");
    const disabled = await endpoints(["disable", hook.id]);
    expect(disabled.code).toBe(0);
    expect(disabled.out).toContain("disabled");
    expect(api.requests.at(-1)!.body).toEqual({ enabled: false });
    const enabled = await endpoints(["enable", hook.id, "--json"]);
    expect(JSON.parse(enabled.out)).toMatchObject({ enabled: true });
  });

  it("rotate prints the new secret once, and the safe order", async () => {
    const hook = await created("https://example.com/r");
    const result = await endpoints(["rotate", hook.id]);
    expect(result.code, result.err).toBe(0);
    expect(api.requests.at(-1)).toMatchObject({
      method: "PATCH",
      query: { rotate_secret: "true" },
    });
    const secret = api.secretOf(hook.id)!;
    expect(secret).not.toBe(hook.secret);
    expect(result.out.split(secret)).toHaveLength(2);
    expect(result.out).not.toContain(hook.secret);
    expect(result.out).toContain("The old secret stopped working now");
    expect(result.out).toMatch(/new secret beside the old one \(secret: \[new, old\]/);
    expect(result.out).toContain("Kallima retries them");
    const json = await endpoints(["rotate", hook.id, "--json"]);
    expect(JSON.parse(json.out)).toMatchObject({ id: hook.id, secret: api.secretOf(hook.id) });
  });

  it("delete, then get: exit 1 with the API's problem and a hint", async () => {
    const hook = await created("https://example.com/d");
    const deleted = await endpoints(["delete", hook.id]);
    expect(deleted).toMatchObject({ code: 0, out: `✓ deleted ${hook.id}\n` });
    const gone = await endpoints(["get", hook.id]);
    expect(gone.code).toBe(1);
    expect(gone.err).toMatch(
      /^error: Not found: No webhook .* \(status 404, code not_found, request req_\w+\)/,
    );
    expect(gone.err).toContain("endpoints list");
    const json = await endpoints(["get", hook.id, "--json"]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out)).toEqual({
      error: expect.objectContaining({
        code: "not_found",
        status: 404,
        request_id: expect.stringMatching(/^req_/),
      }),
    });
  });

  it("test sends webhook.test and prints the delivery; exit 1 when the endpoint did not answer 2xx", async () => {
    const hook = await created("https://example.com/t");
    const result = await endpoints(["test", hook.id]);
    expect(result.code, result.err).toBe(0);
    expect(api.requests.at(-1)).toMatchObject({
      method: "POST",
      path: `/v1/webhooks/${hook.id}/test`,
    });
    expect(result.out).toMatch(/^✓ 200 {2}webhook\.test evt_\w+/);
    const longBody = `${"y".repeat(300)} the end`;
    api.script.push({
      status: 200,
      body: {
        id: "11111111-2222-3333-4444-555555555555",
        object: "webhook_delivery",
        webhook_id: hook.id,
        event_id: "evt_failed",
        event_type: "webhook.test",
        created_at: "2026-04-23T10:00:00Z",
        payload: {},
        response_status: 401,
        response_body: longBody,
        attempts: 1,
        delivered_at: null,
      },
    });
    const refused = await endpoints(["test", hook.id]);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain("✗ 401");
    expect(refused.out).toContain(longBody);
    expect(refused.out).toContain("did not accept it");
  });

  it("deliveries shows the history newest first, honours --limit; retry sends one again", async () => {
    const hook = await created("https://example.com/h");
    const first = JSON.parse((await endpoints(["test", hook.id, "--json"])).out) as { id: string };
    const second = JSON.parse((await endpoints(["test", hook.id, "--json"])).out) as { id: string };
    const table = await endpoints(["deliveries", hook.id]);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(
      /^CREATED\s+EVENT\s+EVENT ID\s+STATUS\s+ATTEMPTS\s+DELIVERED\s+DELIVERY ID/,
    );
    expect(table.out.indexOf(second.id)).toBeLessThan(table.out.indexOf(first.id));
    const limited = await endpoints(["deliveries", hook.id, "--limit", "1", "--json"]);
    expect(api.requests.at(-1)).toMatchObject({ query: { limit: "1" } });
    expect((JSON.parse(limited.out) as { id: string }[]).map((d) => d.id)).toEqual([second.id]);
    const retried = await endpoints(["retry", first.id]);
    expect(retried.code, retried.err).toBe(0);
    expect(api.requests.at(-1)).toMatchObject({
      method: "POST",
      path: `/v1/webhook_deliveries/${first.id}/retry`,
    });
    expect(retried.out).toContain("attempts 2");
    expect((await endpoints(["deliveries", hook.id, "--limit", "0"])).code).toBe(2);
  });

  it("--path replaces an inferred path", async () => {
    const hook = await created("https://example.com/p");
    api.script.push({ status: 200, body: [] });
    const result = await endpoints([
      "deliveries",
      hook.id,
      "--path",
      "/v2/hooks/{webhook_id}/attempts",
    ]);
    expect(result.code, result.err).toBe(0);
    expect(api.requests.at(-1)!.path).toBe(`/v2/hooks/${hook.id}/attempts`);
    expect(result.out).toContain("No deliveries yet.");
  });

  it("--api-key and --base-url beat the environment", async () => {
    const result = await endpoints(["list", "--api-key", api.apiKey, "--base-url", api.baseUrl], {
      KALLIMA_API_KEY: "kal_wrong",
      KALLIMA_BASE_URL: "http://127.0.0.1:1",
    });
    expect(result.code, result.err).toBe(0);
  });
});

describe("kallima-webhooks endpoints: failures", () => {
  it("no API key: exit 2 and says how to give one", async () => {
    const result = await endpoints(["list", "--base-url", api.baseUrl], {});
    expect(result.code).toBe(2);
    expect(result.err).toContain("--api-key");
    expect(result.err).toContain("KALLIMA_API_KEY");
    const json = await endpoints(["list", "--json"], {});
    expect(JSON.parse(json.out)).toEqual({
      error: { code: "missing_api_key", message: expect.any(String) },
    });
  });

  it("a wrong API key: exit 1 with the 401, a hint, and the key not echoed", async () => {
    const result = await endpoints(["list"], { ...env, KALLIMA_API_KEY: "kal_wrong_key_123" });
    expect(result.code).toBe(1);
    expect(result.err).toContain("code invalid_api_key");
    expect(result.err).toContain("Check --api-key or $KALLIMA_API_KEY");
    expect(result.err + result.out).not.toContain("kal_wrong_key_123");
  });

  it("a 500 on a GET is retried by the client; a 500 on create is not, and fails", async () => {
    api.script.push({ status: 500, body: { title: "boom" } });
    expect((await endpoints(["list"])).code).toBe(0);
    expect(api.requests).toHaveLength(2);
    api.requests.length = 0;
    api.script.push({ status: 500, body: { title: "boom", code: "internal" } });
    const result = await endpoints(["create", "https://example.com/x"]);
    expect(result.code).toBe(1);
    expect(result.err).toContain("code internal");
    expect(api.requests).toHaveLength(1);
  });

  it("a --base-url that is not http(s): exit 2, named as the option", async () => {
    const result = await endpoints(["list", "--base-url", "localhost:4010"]);
    expect(result.code).toBe(2);
    expect(result.err).toBe(
      'error: --base-url must be an http(s) URL such as http://localhost:4010, got "localhost:4010".\n',
    );
  });

  it("an unreachable API: exit 1 with a hint about --base-url", async () => {
    const result = await endpoints(["list", "--base-url", "http://127.0.0.1:1"]);
    expect(result.code).toBe(1);
    expect(result.err).toContain("Could not reach the Kallima API");
    expect(result.err).toContain("--base-url");
  });

  it("a server that never answers: exit 1 after --timeout", async () => {
    api.script.push({ hang: true }, { hang: true }, { hang: true });
    const result = await endpoints(["list", "--timeout", "100"]);
    expect(result.code).toBe(1);
    expect(result.err).toContain("No answer within 100 ms");
  });

  it.each([
    [["get", ""]],
    [["retry", " "]],
    [["create", "not-a-url"]],
    [["create", "https://example.com", "--events", ""]],
    [["list", "--base-url", "nope"]],
    [["list", "--timeout", "soon"]],
    [["get"]],
  ])("%j is a usage error: exit 2, nothing sent", async (args) => {
    const result = await endpoints(args);
    expect(result.code).toBe(2);
    expect(result.err).not.toBe("");
    expect(api.requests).toEqual([]);
  });

  it("--help lists every endpoints command", async () => {
    const result = await endpoints(["--help"]);
    expect(result.code).toBe(0);
    for (const name of [
      "create",
      "list",
      "get",
      "update",
      "enable",
      "disable",
      "rotate",
      "delete",
      "test",
      "deliveries",
      "retry",
    ]) {
      expect(result.out).toMatch(new RegExp(`^  ${name}\\b`, "m"));
    }
    const rotate = await endpoints(["rotate", "--help"]);
    expect(rotate.out).toContain("the old one stops working at once");
  });
});

describe("the built executable", () => {
  const bin = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

  it("endpoints list reads KALLIMA_API_KEY and KALLIMA_BASE_URL from the environment", async () => {
    const hook = await created("https://example.com/bin");
    const result = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        [bin, "endpoints", "list", "--json"],
        { env: { PATH: process.env.PATH ?? "", ...env }, timeout: 20_000 },
        (error, stdout) => resolve({ code: error ? Number(error.code) : 0, stdout }),
      );
    });
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as { id: string }[]).map((h) => h.id)).toContain(hook.id);
  });
});
