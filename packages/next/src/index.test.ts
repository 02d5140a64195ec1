import { createWebhookHandler } from "@kallima/webhooks";
import { createSignedRequest, jobCompletedEvent, signPayload } from "@kallima/webhooks/testing";
import {
  fromFetchResponse,
  runConformanceSuite,
  signDelivery,
} from "@kallima/webhooks-conformance";
import { describe, expect, it } from "vitest";
import {
  isEventType,
  type KallimaWebhookError,
  kallimaWebhooks,
  PayloadTooLargeError,
  RawBodyUnavailableError,
  verifyKallimaWebhook,
  WebhookConfigError,
  WebhookSignatureError,
} from "./index.js";

const SECRET = "whsec_nextAdapterTestSecret_0123456789abcdef";
const URL_ = "http://localhost/kallima-events";

// Route handlers receive a Fetch Request from Next.js, on the Node.js and on the Edge runtime alike.
runConformanceSuite("next App Router route handler", {
  // Next routes a method to the export of that name; the handler itself still answers 405 to a
  // request of another method that reaches it (a route exporting it as PUT too, say).
  otherMethods: "405",
  setup(options) {
    const POST = kallimaWebhooks(options as never);
    return {
      send: async ({ method = "POST", headers, body }) =>
        fromFetchResponse(await POST(new Request(URL_, { method, headers, body }))),
    };
  },
});

describe("kallimaWebhooks", () => {
  it("accepts a handler made with createWebhookHandler and shares its state between routes", async () => {
    const seen: string[] = [];
    const webhooks = createWebhookHandler({ secret: SECRET }).on("job.completed", (event) => {
      seen.push(event.data.id);
    });
    const nodeRoute = kallimaWebhooks(webhooks);
    const otherRoute = kallimaWebhooks(webhooks);
    const event = jobCompletedEvent({ data: { id: "job_shared", status: "completed" } });
    const signed = await signPayload({ secret: SECRET, payload: event });
    const send = (route: typeof nodeRoute) =>
      route(new Request(URL_, { method: "POST", headers: signed.headers, body: signed.body }), {
        params: Promise.resolve({}),
      });

    expect((await send(nodeRoute)).status).toBe(200);
    const repeat = await send(otherRoute);
    expect(repeat.status).toBe(200);
    expect(await repeat.json()).toEqual({ received: true, outcome: "duplicate" });
    expect(seen).toEqual(["job_shared"]);
  });

  it("answers 400 with a protocol code when a header is missing", async () => {
    const POST = kallimaWebhooks({ secret: SECRET });
    const response = await POST(
      new Request(URL_, { method: "POST", body: JSON.stringify(jobCompletedEvent()) }),
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "missing_signature" } });
  });

  it("answers 500 raw_body_unavailable when something read the body first", async () => {
    const POST = kallimaWebhooks({ secret: SECRET });
    const request = await createSignedRequest({
      secret: SECRET,
      payload: jobCompletedEvent(),
      url: URL_,
    });
    await request.text();
    const response = await POST(request);
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ error: { code: "raw_body_unavailable" } });
  });

  it("throws a coded configuration error at module scope for a missing secret", () => {
    expect(() => kallimaWebhooks({ secret: "" })).toThrow(WebhookConfigError);
  });
});

describe("verifyKallimaWebhook", () => {
  const options = { secret: SECRET };

  it("gives the typed event of an authentic delivery", async () => {
    const event = jobCompletedEvent({ data: { id: "job_typed", status: "completed" } });
    const signed = await signPayload({ secret: SECRET, payload: event });
    const verified = await verifyKallimaWebhook(
      new Request(URL_, { method: "POST", headers: signed.headers, body: signed.body }),
      options,
    );
    expect(verified).toEqual(event);
    if (!isEventType(verified, "job.completed")) throw new Error("expected job.completed");
    expect(verified.data.id).toBe("job_typed");
  });

  it("verifies the exact bytes: a tampered body throws invalid_signature", async () => {
    const signed = signDelivery(JSON.stringify(jobCompletedEvent()), { secret: SECRET });
    const tampered = new TextDecoder().decode(signed.body).replace("job.completed", "job.failed");
    const error = await verifyKallimaWebhook(
      new Request(URL_, { method: "POST", headers: signed.headers, body: tampered }),
      options,
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WebhookSignatureError);
    expect((error as KallimaWebhookError).code).toBe("invalid_signature");
  });

  it("throws timestamp_too_old for a stale delivery", async () => {
    const signed = signDelivery(JSON.stringify(jobCompletedEvent()), {
      secret: SECRET,
      timestamp: Math.floor(Date.now() / 1000) - 3600,
    });
    await expect(
      verifyKallimaWebhook(
        new Request(URL_, { method: "POST", headers: signed.headers, body: signed.body }),
        options,
      ),
    ).rejects.toMatchObject({ code: "timestamp_too_old" });
  });

  it("throws payload_too_large past maxBodyBytes", async () => {
    const signed = signDelivery(JSON.stringify(jobCompletedEvent()), { secret: SECRET });
    const error = await verifyKallimaWebhook(
      new Request(URL_, { method: "POST", headers: signed.headers, body: signed.body }),
      { secret: SECRET, maxBodyBytes: 16 },
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PayloadTooLargeError);
  });

  it("throws raw_body_unavailable when the body was already read", async () => {
    const request = await createSignedRequest({
      secret: SECRET,
      payload: jobCompletedEvent(),
      url: URL_,
    });
    await request.arrayBuffer();
    await expect(verifyKallimaWebhook(request, options)).rejects.toBeInstanceOf(
      RawBodyUnavailableError,
    );
  });

  it("only verifies: no handler runs and a repeat is not treated as a duplicate", async () => {
    let ran = 0;
    const withHandlers = createWebhookHandler({ secret: SECRET }).on("job.completed", () => {
      ran += 1;
    });
    const signed = await signPayload({ secret: SECRET, payload: jobCompletedEvent() });
    const request = () =>
      new Request(URL_, { method: "POST", headers: signed.headers, body: signed.body });
    const first = await verifyKallimaWebhook(request(), withHandlers);
    const second = await verifyKallimaWebhook(request(), withHandlers);
    expect(second).toEqual(first);
    expect(ran).toBe(0);
  });
});

describe("repeated signature headers on the App Router (README: what Fetch can tell apart)", () => {
  // A Fetch Request has no raw header list: Headers joins a repeated header into one "a, b"
  // value, which is what the route handler sees.
  const body = JSON.stringify(jobCompletedEvent());
  const pair = signDelivery(body, { secret: SECRET }).headers;
  const combined = signDelivery(body, { secret: SECRET, format: "kallima-signature" }).headers;
  it.each([
    ["X-Kallima-Signature twice (same value): a list of two", "x-kallima-signature", pair, 200],
    ["X-Kallima-Timestamp twice: not digits", "x-kallima-timestamp", pair, 400],
    ["Kallima-Signature twice: two t= items", "kallima-signature", combined, 400],
  ] as const)("%s", async (_label, repeated, signed, status) => {
    const headers = new Headers(signed);
    headers.append(repeated, signed[repeated as keyof typeof signed]!);
    const POST = kallimaWebhooks({ secret: SECRET });
    const response = await POST(new Request(URL_, { method: "POST", headers, body }));
    expect(response.status).toBe(status);
    if (status === 400) {
      expect(await response.json()).toMatchObject({ error: { code: "invalid_timestamp" } });
    }
  });
});
