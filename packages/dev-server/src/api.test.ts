import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type DevServer, startDevServer } from "./index.js";
import { call, startReceiver, type TestReceiver } from "./test-support.js";

let dev: DevServer;
let receiver: TestReceiver;

beforeEach(async () => {
  dev = await startDevServer({ port: 0, retryDelaysMs: [] });
  receiver = await startReceiver();
});

afterEach(async () => {
  await dev.close();
  await receiver.close();
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function expectProblem(
  answer: { status: number; headers: Headers; body: unknown },
  status: number,
  code: string,
  instance: string,
) {
  expect(answer.status).toBe(status);
  expect(answer.headers.get("content-type")).toBe("application/problem+json");
  expect(answer.body).toEqual({
    type: expect.stringMatching(/^https:\/\//),
    title: expect.any(String),
    status,
    detail: expect.any(String),
    instance,
    code,
    request_id: answer.headers.get("x-request-id"),
  });
}

describe("the endpoints API", () => {
  it("registers an endpoint and shows its secret only then", async () => {
    const created = await call(dev.url, "POST", "/v1/webhooks", {
      url: receiver.url,
      events: ["job.completed"],
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(UUID),
      object: "webhook",
      url: receiver.url,
      enabled: true,
      events: ["job.completed"],
      created_at: expect.stringMatching(ISO),
      updated_at: expect.stringMatching(ISO),
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9_-]{32}$/),
    });
    const { id, secret: _secret, ...rest } = created.body as Record<string, unknown>;
    const fetched = await call(dev.url, "GET", `/v1/webhooks/${id}`);
    expect(fetched).toMatchObject({ status: 200, body: { id, ...rest } });
    expect(fetched.body).not.toHaveProperty("secret");
  });

  it("answers null for every type, given [] or nothing", async () => {
    const empty = await call(dev.url, "POST", "/v1/webhooks", { url: receiver.url, events: [] });
    const none = await call(dev.url, "POST", "/v1/webhooks", { url: receiver.url });
    expect((empty.body as { events: unknown }).events).toBeNull();
    expect((none.body as { events: unknown }).events).toBeNull();
  });

  it("lists endpoints newest first, without secrets", async () => {
    const first = await call(dev.url, "POST", "/v1/webhooks", { url: `${receiver.url}?n=1` });
    const second = await call(dev.url, "POST", "/v1/webhooks", { url: `${receiver.url}?n=2` });
    const list = await call(dev.url, "GET", "/v1/webhooks");
    expect(list.status).toBe(200);
    const items = list.body as Record<string, unknown>[];
    expect(items.map((item) => item.id)).toEqual([
      (second.body as { id: string }).id,
      (first.body as { id: string }).id,
    ]);
    for (const item of items) expect(item).not.toHaveProperty("secret");
  });

  it("updates, disables, enables and rotates; the rotation answer carries the new secret", async () => {
    const created = (await call(dev.url, "POST", "/v1/webhooks", { url: receiver.url })).body as {
      id: string;
      secret: string;
      updated_at: string;
    };
    const disabled = await call(dev.url, "PATCH", `/v1/webhooks/${created.id}`, {
      enabled: false,
      events: ["job.failed"],
    });
    expect(disabled.body).toMatchObject({ enabled: false, events: ["job.failed"] });
    expect(disabled.body).not.toHaveProperty("secret");
    const rotated = await call(dev.url, "PATCH", `/v1/webhooks/${created.id}?rotate_secret=true`);
    expect(rotated.status).toBe(200);
    const secret = (rotated.body as { secret: string }).secret;
    expect(secret).toMatch(/^whsec_/);
    expect(secret).not.toBe(created.secret);
    const enabled = await call(dev.url, "PATCH", `/v1/webhooks/${created.id}`, { enabled: true });
    expect(enabled.body).toMatchObject({ enabled: true, events: ["job.failed"] });
  });

  it("deletes an endpoint: 204, then 404 problem+json", async () => {
    const { id } = (await call(dev.url, "POST", "/v1/webhooks", { url: receiver.url })).body as {
      id: string;
    };
    const deleted = await call(dev.url, "DELETE", `/v1/webhooks/${id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeUndefined();
    expectProblem(
      await call(dev.url, "GET", `/v1/webhooks/${id}`),
      404,
      "not_found",
      `/v1/webhooks/${id}`,
    );
    expect((await call(dev.url, "GET", "/v1/webhooks")).body).toEqual([]);
  });

  it("fires a test event and answers the delivery record after its attempt", async () => {
    const { id, secret } = (await call(dev.url, "POST", "/v1/webhooks", { url: receiver.url }))
      .body as { id: string; secret: string };
    receiver.secrets = [secret];
    const tested = await call(dev.url, "POST", `/v1/webhooks/${id}/test`);
    expect(tested.status).toBe(200);
    expect(tested.body).toEqual({
      id: expect.stringMatching(UUID),
      object: "webhook_delivery",
      webhook_id: id,
      event_id: expect.stringMatching(/^evt_/),
      event_type: "webhook.test",
      created_at: expect.stringMatching(ISO),
      payload: {
        id: expect.stringMatching(/^evt_/),
        type: "webhook.test",
        api_version: "2026-04-23",
        created_at: expect.any(String),
        data: { webhook_id: id },
      },
      response_status: 200,
      response_body: expect.stringContaining('"ok":true'),
      attempts: 1,
      delivered_at: expect.stringMatching(ISO),
    });
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.verdict).toEqual({
      ok: true,
      id: (tested.body as { event_id: string }).event_id,
      type: "webhook.test",
    });
    const history = await call(dev.url, "GET", `/v1/webhooks/${id}/deliveries?limit=5`);
    expect(history.body).toEqual([tested.body]);
  });

  it("keeps the first 4096 bytes of an answer's body", async () => {
    const { createServer } = await import("node:http");
    const server = createServer((_request, response) => response.end("x".repeat(10_000)));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const { id } = (
        await call(dev.url, "POST", "/v1/webhooks", { url: `http://127.0.0.1:${port}/` })
      ).body as { id: string };
      const tested = (await call(dev.url, "POST", `/v1/webhooks/${id}/test`)).body as {
        response_body: string;
      };
      expect(tested.response_body).toBe("x".repeat(4096));
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });

  it("answers problem+json for bad input, unknown routes and methods", async () => {
    expectProblem(
      await call(dev.url, "POST", "/v1/webhooks", { url: "ftp://example.com" }),
      422,
      "validation_error",
      "/v1/webhooks",
    );
    expectProblem(
      await call(dev.url, "POST", "/v1/webhooks", { url: receiver.url, events: "job.completed" }),
      422,
      "validation_error",
      "/v1/webhooks",
    );
    const badJson = await fetch(`${dev.url}/v1/webhooks`, { method: "POST", body: "{nope" });
    expect(badJson.status).toBe(400);
    expect(((await badJson.json()) as { code: string }).code).toBe("invalid_json");
    expectProblem(await call(dev.url, "GET", "/v1/nothing"), 404, "not_found", "/v1/nothing");
    const put = await call(dev.url, "PUT", "/v1/webhooks");
    expectProblem(put, 405, "method_not_allowed", "/v1/webhooks");
    expect(put.headers.get("allow")).toBe("POST, GET");
    expectProblem(
      await call(dev.url, "GET", "/v1/webhooks/x/deliveries?limit=0"),
      422,
      "validation_error",
      "/v1/webhooks/x/deliveries",
    );
    expectProblem(
      await call(dev.url, "POST", "/v1/webhook_deliveries/nope/retry"),
      404,
      "not_found",
      "/v1/webhook_deliveries/nope/retry",
    );
  });

  it("refuses to test or retry a disabled endpoint, and sends it nothing", async () => {
    const { id } = (
      await call(dev.url, "POST", "/v1/webhooks", { url: receiver.url, enabled: false })
    ).body as { id: string };
    expectProblem(
      await call(dev.url, "POST", `/v1/webhooks/${id}/test`),
      409,
      "webhook_disabled",
      `/v1/webhooks/${id}/test`,
    );
    const triggered = await call(dev.url, "POST", "/v1/dev/events", { type: "job.completed" });
    expect(triggered.status).toBe(201);
    expect((triggered.body as { deliveries: unknown[] }).deliveries).toEqual([]);
    expectProblem(
      await call(dev.url, "POST", "/v1/dev/events", { type: "job.completed", webhook_id: id }),
      409,
      "webhook_disabled",
      "/v1/dev/events",
    );
    expect(receiver.received).toHaveLength(0);
  });

  it("replays the answer of a POST repeated with the same Idempotency-Key", async () => {
    const headers = { "idempotency-key": "create-1" };
    const first = await call(dev.url, "POST", "/v1/webhooks", { url: receiver.url }, headers);
    const again = await call(dev.url, "POST", "/v1/webhooks", { url: receiver.url }, headers);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect((await call(dev.url, "GET", "/v1/webhooks")).body).toHaveLength(1);
    expectProblem(
      await call(dev.url, "POST", "/v1/dev/events", { type: "job.completed" }, headers),
      422,
      "idempotency_key_reused",
      "/v1/dev/events",
    );
  });
});

describe("an API key", () => {
  it("is required when the server is started with one", async () => {
    const locked = await startDevServer({ port: 0, apiKey: "kal_test_123" });
    try {
      expectProblem(
        await call(locked.url, "GET", "/v1/webhooks"),
        401,
        "unauthorized",
        "/v1/webhooks",
      );
      expectProblem(
        await call(locked.url, "GET", "/v1/webhooks", undefined, { authorization: "Bearer nope" }),
        401,
        "unauthorized",
        "/v1/webhooks",
      );
      const ok = await call(locked.url, "GET", "/v1/webhooks", undefined, {
        authorization: "Bearer kal_test_123",
      });
      expect(ok).toMatchObject({ status: 200, body: [] });
    } finally {
      await locked.close();
    }
  });
});
