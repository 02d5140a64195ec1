import {
  AuthenticationError,
  ConflictError,
  KallimaApiError,
  KallimaClient,
  NotFoundError,
  UnprocessableEntityError,
  type WebhookDelivery,
} from "@kallima/webhooks-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type DevServer, startDevServer } from "./index.js";
import { startReceiver, type TestReceiver } from "./test-support.js";

// `@kallima/webhooks-client` against the dev server, unchanged: the two were written apart, from
// PROTOCOL.md alone, and these tests hold them to the same wire shapes.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** What went over the wire, seen from the client's side: the real fetch, observed. */
interface Exchange {
  method: string;
  path: string;
  status: number;
  contentType: string | null;
}

let dev: DevServer;
let receiver: TestReceiver;
let exchanges: Exchange[];
let kallima: KallimaClient;

function clientOf(url: string, apiKey = "kal_test_dev", timeoutMs?: number): KallimaClient {
  return new KallimaClient({
    apiKey,
    baseUrl: url,
    retryDelayMs: 10,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      const url = new URL(String(input));
      exchanges.push({
        method: init?.method ?? "GET",
        path: `${url.pathname}${url.search}`,
        status: response.status,
        contentType: response.headers.get("content-type"),
      });
      return response;
    },
  });
}

beforeEach(async () => {
  exchanges = [];
  dev = await startDevServer({ port: 0, retryDelaysMs: [] });
  receiver = await startReceiver();
  kallima = clientOf(dev.url);
});

afterEach(async () => {
  await dev.close();
  await receiver.close();
});

async function rejection(promise: Promise<unknown>): Promise<KallimaApiError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(KallimaApiError);
  return error as KallimaApiError;
}

describe("the typed client against the dev server", () => {
  it("create: 201, the webhook object with its secret; events [] or omitted is every type (null)", async () => {
    const hook = await kallima.webhooks.create({ url: receiver.url, events: ["job.completed"] });
    expect(exchanges.at(-1)).toMatchObject({ method: "POST", path: "/v1/webhooks", status: 201 });
    expect(hook).toEqual({
      id: expect.stringMatching(UUID),
      object: "webhook",
      url: receiver.url,
      enabled: true,
      events: ["job.completed"],
      created_at: expect.stringMatching(ISO),
      updated_at: expect.stringMatching(ISO),
      secret: expect.stringMatching(/^whsec_/),
    });
    const all = await kallima.webhooks.create({ url: receiver.url, events: [], enabled: false });
    expect(all).toMatchObject({ events: null, enabled: false });
    expect((await kallima.webhooks.create({ url: receiver.url })).events).toBeNull();
  });

  it("retrieve and list: the same objects without secrets, newest first, as a plain array", async () => {
    const older = await kallima.webhooks.create({ url: `${receiver.url}?n=1` });
    const newer = await kallima.webhooks.create({ url: `${receiver.url}?n=2` });
    const { secret: _secret, ...withoutSecret } = older;
    expect(await kallima.webhooks.retrieve(older.id)).toEqual(withoutSecret);
    const listed = await kallima.webhooks.list();
    expect(listed.map((hook) => hook.id)).toEqual([newer.id, older.id]);
    for (const hook of listed) expect(hook).not.toHaveProperty("secret");
    expect(exchanges.at(-1)).toMatchObject({ method: "GET", path: "/v1/webhooks", status: 200 });
  });

  it("update, disable and enable change only what they name; the answers carry no secret", async () => {
    const hook = await kallima.webhooks.create({ url: receiver.url });
    const updated = await kallima.webhooks.update(hook.id, {
      url: `${receiver.url}?v=2`,
      events: ["job.failed"],
    });
    expect(updated).toMatchObject({
      id: hook.id,
      url: `${receiver.url}?v=2`,
      events: ["job.failed"],
      enabled: true,
    });
    expect(updated).not.toHaveProperty("secret");
    expect(await kallima.webhooks.disable(hook.id)).toMatchObject({
      enabled: false,
      events: ["job.failed"],
    });
    expect(await kallima.webhooks.enable(hook.id)).toMatchObject({ enabled: true });
    expect((await kallima.webhooks.update(hook.id, { events: null })).events).toBeNull();
    expect(exchanges.map((exchange) => `${exchange.method} ${exchange.status}`).slice(1)).toEqual([
      "PATCH 200",
      "PATCH 200",
      "PATCH 200",
      "PATCH 200",
    ]);
  });

  it("test: the delivery record after its attempt, signed with the endpoint's secret", async () => {
    const hook = await kallima.webhooks.create({ url: receiver.url });
    receiver.secrets = [hook.secret];
    const delivery = await kallima.webhooks.test(hook.id);
    expect(exchanges.at(-1)).toMatchObject({
      method: "POST",
      path: `/v1/webhooks/${hook.id}/test`,
      status: 200,
    });
    expect(delivery).toEqual({
      id: expect.stringMatching(UUID),
      object: "webhook_delivery",
      webhook_id: hook.id,
      event_id: expect.stringMatching(/^evt_/),
      event_type: "webhook.test",
      created_at: expect.stringMatching(ISO),
      payload: expect.objectContaining({ type: "webhook.test", data: { webhook_id: hook.id } }),
      response_status: 200,
      response_body: expect.stringContaining('"ok":true'),
      attempts: 1,
      delivered_at: expect.stringMatching(ISO),
    } satisfies Record<keyof WebhookDelivery, unknown>);
    expect(receiver.received.map((received) => received.verdict)).toEqual([
      { ok: true, id: delivery.event_id, type: "webhook.test" },
    ]);
  });

  it("rotateSecret: the new secret once; the old one signs nothing from then on", async () => {
    const hook = await kallima.webhooks.create({ url: receiver.url });
    receiver.secrets = [hook.secret];
    const rotated = await kallima.webhooks.rotateSecret(hook.id);
    expect(exchanges.at(-1)).toMatchObject({
      method: "PATCH",
      path: `/v1/webhooks/${hook.id}?rotate_secret=true`,
      status: 200,
    });
    expect(rotated).toMatchObject({ id: hook.id, secret: expect.stringMatching(/^whsec_/) });
    expect(rotated.secret).not.toBe(hook.secret);
    expect(await kallima.webhooks.retrieve(hook.id)).not.toHaveProperty("secret");

    const missed = await kallima.webhooks.test(hook.id);
    expect(missed).toMatchObject({ response_status: 401, delivered_at: null, attempts: 1 });
    expect(receiver.received.at(-1)!.verdict).toEqual({ ok: false, code: "invalid_signature" });
    // The receiver holds both during the rotation (old and new), as the CLI's rotate advises.
    receiver.secrets = [hook.secret, rotated.secret];
    expect((await kallima.webhooks.test(hook.id)).response_status).toBe(200);
  });

  it("listDeliveries and retryDelivery: the history newest first, a retry one attempt more", async () => {
    const hook = await kallima.webhooks.create({ url: receiver.url });
    receiver.secrets = ["whsec_notTheIssuedOne_000000000000000000"];
    const refused = await kallima.webhooks.test(hook.id); // 401: not yet the issued secret
    expect(refused).toMatchObject({ response_status: 401, attempts: 1, delivered_at: null });
    receiver.secrets = [hook.secret];
    const accepted = await kallima.webhooks.test(hook.id);
    const history = await kallima.webhooks.listDeliveries(hook.id);
    expect(history).toEqual([accepted, refused]);
    expect(await kallima.webhooks.listDeliveries(hook.id, { limit: 1 })).toEqual([accepted]);
    expect(exchanges.at(-1)).toMatchObject({
      method: "GET",
      path: `/v1/webhooks/${hook.id}/deliveries?limit=1`,
      status: 200,
    });

    const retried = await kallima.webhooks.retryDelivery(refused.id);
    expect(exchanges.at(-1)).toMatchObject({
      method: "POST",
      path: `/v1/webhook_deliveries/${refused.id}/retry`,
      status: 200,
    });
    expect(retried).toMatchObject({
      id: refused.id,
      event_id: refused.event_id,
      response_status: 200,
      attempts: 2,
      delivered_at: expect.stringMatching(ISO),
    });
    // The retry is the same event: a receiver deduplicating on its id runs its handler once.
    expect(receiver.received.map((received) => received.verdict)).toEqual([
      { ok: false, code: "invalid_signature" },
      { ok: true, id: accepted.event_id, type: "webhook.test" },
      { ok: true, id: refused.event_id, type: "webhook.test" },
    ]);
  });

  it("delete: 204 with no body, then retrieve is a NotFoundError built from the problem+json", async () => {
    const hook = await kallima.webhooks.create({ url: receiver.url });
    const delivery = await kallima.webhooks.test(hook.id);
    await expect(kallima.webhooks.delete(hook.id)).resolves.toBeUndefined();
    expect(exchanges.at(-1)).toMatchObject({
      method: "DELETE",
      path: `/v1/webhooks/${hook.id}`,
      status: 204,
      contentType: null,
    });
    const missing = await rejection(kallima.webhooks.retrieve(hook.id));
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toMatchObject({
      status: 404,
      code: "not_found",
      title: "Not found",
      detail: `No webhook with id ${hook.id}.`,
      instance: `/v1/webhooks/${hook.id}`,
      type: expect.stringMatching(/^https:\/\//),
      requestId: expect.stringMatching(/^req_/),
    });
    expect(exchanges.at(-1)!.contentType).toBe("application/problem+json");
    // Its deliveries are orphaned: a retry is refused, not sent.
    const orphaned = await rejection(kallima.webhooks.retryDelivery(delivery.id));
    expect(orphaned).toBeInstanceOf(ConflictError);
    expect(orphaned).toMatchObject({ status: 409, code: "webhook_deleted" });
    expect(await kallima.webhooks.list()).toEqual([]);
  });

  it("a disabled endpoint: test and retry are a ConflictError webhook_disabled, and nothing is sent", async () => {
    const hook = await kallima.webhooks.create({ url: receiver.url });
    receiver.secrets = [hook.secret];
    const delivery = await kallima.webhooks.test(hook.id);
    await kallima.webhooks.disable(hook.id);
    for (const call of [
      () => kallima.webhooks.test(hook.id),
      () => kallima.webhooks.retryDelivery(delivery.id),
    ]) {
      const refused = await rejection(call());
      expect(refused).toBeInstanceOf(ConflictError);
      expect(refused).toMatchObject({ status: 409, code: "webhook_disabled" });
    }
    expect(receiver.received).toHaveLength(1);
  });

  it("invalid input is an UnprocessableEntityError validation_error, and a POST is not repeated", async () => {
    const invalid = await rejection(kallima.webhooks.create({ url: "ftp://example.com/hook" }));
    expect(invalid).toBeInstanceOf(UnprocessableEntityError);
    expect(invalid).toMatchObject({ status: 422, code: "validation_error" });
    const limit = await rejection(
      kallima.webhooks.listDeliveries((await kallima.webhooks.create({ url: receiver.url })).id, {
        limit: 101,
      }),
    );
    expect(limit).toMatchObject({ status: 422, code: "validation_error" });
    expect(exchanges.filter((exchange) => exchange.status === 422)).toHaveLength(2);
  });

  it("an endpoint that never answers: the test delivery has no status after the dev server's timeout", async () => {
    await dev.close();
    dev = await startDevServer({ port: 0, retryDelaysMs: [], deliveryTimeoutMs: 400 });
    // A client timeout shorter than the sender's wait on the endpoint: test() waits for both.
    kallima = clientOf(dev.url, "kal_test_dev", 100);
    const silent = await startReceiver(() => new Promise<number>(() => undefined));
    try {
      const hook = await kallima.webhooks.create({ url: silent.url });
      const delivery = await kallima.webhooks.test(hook.id);
      expect(delivery).toMatchObject({
        response_status: null,
        response_body: null,
        attempts: 1,
        delivered_at: null,
      });
    } finally {
      await silent.close();
    }
  });
});

describe("the typed client against a dev server started with an API key", () => {
  it("sends the key as a Bearer token; a wrong one is an AuthenticationError, not retried", async () => {
    const locked = await startDevServer({ port: 0, apiKey: "kal_test_locked" });
    try {
      expect(await clientOf(locked.url, "kal_test_locked").webhooks.list()).toEqual([]);
      exchanges = [];
      const refused = await rejection(clientOf(locked.url, "kal_test_wrong").webhooks.list());
      expect(refused).toBeInstanceOf(AuthenticationError);
      expect(refused).toMatchObject({ status: 401, code: "unauthorized" });
      expect(refused.message).not.toContain("kal_test_wrong");
      expect(exchanges).toHaveLength(1);
    } finally {
      await locked.close();
    }
  });
});
