import { describe, expect, it } from "vitest";
import { createWebhookHandler, WebhookConfigError, WebhookVerifier } from "./index.js";
import {
  createEvent,
  createSignedRequest,
  humanizationCompletedEvent,
  humanizationFailedEvent,
  jobCompletedEvent,
  jobFailedEvent,
  signPayload,
  structurePredictionCompletedEvent,
  structurePredictionFailedEvent,
  webhookTestEvent,
} from "./testing.js";

const SECRET = "whsec_testingHelpersSecret0000000000000";

describe("testing helpers", () => {
  it("signPayload signs objects, strings and bytes so that the verifier accepts them", async () => {
    const verifier = new WebhookVerifier({ secret: SECRET });
    for (const payload of [
      jobCompletedEvent(),
      JSON.stringify(jobFailedEvent()),
      new TextEncoder().encode(JSON.stringify(webhookTestEvent())),
    ]) {
      const signed = await signPayload({ secret: SECRET, payload });
      const event = await verifier.verify({
        payload: signed.body,
        signature: signed.signature,
        timestamp: signed.timestamp,
      });
      expect(event.type).toMatch(/^(job|webhook)\./);
      expect(signed.headers).toEqual({
        "content-type": "application/json",
        "x-kallima-signature": signed.signature,
        "x-kallima-timestamp": signed.timestamp,
      });
    }
  });

  it("signPayload sends the Kallima-Signature format on request, which handlers accept", async () => {
    const handler = createWebhookHandler({ secret: SECRET });
    const signed = await signPayload({
      secret: SECRET,
      payload: jobCompletedEvent(),
      format: "kallima-signature",
      timestamp: Math.floor(Date.now() / 1000),
    });
    expect(signed.format).toBe("kallima-signature");
    expect(signed.headers).toEqual({
      "content-type": "application/json",
      "kallima-signature": `t=${signed.timestamp},v1=${signed.signature}`,
    });
    const result = await handler.handle({ headers: signed.headers, rawBody: signed.body });
    expect([result.status, result.outcome]).toEqual([200, "unhandled"]);
    const request = await createSignedRequest({
      secret: SECRET,
      payload: jobFailedEvent(),
      format: "kallima-signature",
    });
    expect(request.headers.get("x-kallima-signature")).toBeNull();
    expect((await handler.fetch(request)).status).toBe(200);
    await expect(
      signPayload({ secret: SECRET, payload: "x", format: "v2" as "x-headers" }),
    ).rejects.toMatchObject({ code: "invalid_option" });
  });

  it("signPayload matches an independent HMAC over timestamp.body", async () => {
    const { createHmac } = await import("node:crypto");
    const signed = await signPayload({ secret: SECRET, payload: "hello", timestamp: 1700000000 });
    expect(signed.signature).toBe(
      createHmac("sha256", SECRET).update("1700000000.hello").digest("hex"),
    );
    expect(signed.timestamp).toBe("1700000000");
  });

  it("signPayload refuses a malformed secret", async () => {
    await expect(signPayload({ secret: "not-a-secret", payload: "x" })).rejects.toBeInstanceOf(
      WebhookConfigError,
    );
  });

  it("createSignedRequest builds a POST that a handler accepts, with header overrides", async () => {
    const request = await createSignedRequest({
      secret: SECRET,
      payload: jobCompletedEvent(),
      url: "http://example.test/hooks",
      headers: { "x-extra": "1" },
    });
    expect([request.method, request.url, request.headers.get("x-extra")]).toEqual([
      "POST",
      "http://example.test/hooks",
      "1",
    ]);
    expect((await createWebhookHandler({ secret: SECRET }).fetch(request)).status).toBe(200);
  });

  it("event builders make realistic envelopes with unique ids and mergeable data", () => {
    const first = jobCompletedEvent({ data: { id: "job_x" } });
    const second = jobCompletedEvent();
    expect(first).toMatchObject({
      type: "job.completed",
      api_version: "2026-04-23",
      data: { id: "job_x", status: "completed" },
    });
    expect(first.id).toMatch(/^evt_/);
    expect(first.id).not.toBe(second.id);
    expect(jobFailedEvent().data).toMatchObject({
      status: "failed",
      error_message: "GPU ran out of memory",
      job_type: "structure",
    });
    expect(humanizationCompletedEvent().data).toMatchObject({
      object: "humanization",
      status: "completed",
      results: { humanness: 0.93 },
    });
    expect(humanizationFailedEvent().data.error).toMatchObject({ code: "pipeline_failed" });
    expect(structurePredictionCompletedEvent().type).toBe("structure_prediction.completed");
    expect(structurePredictionFailedEvent().data).toMatchObject({
      object: "structure_prediction",
      status: "failed",
      results: null,
    });
    expect(webhookTestEvent({ id: "evt_fixed" }).id).toBe("evt_fixed");
    expect(createEvent("humanization.completed", { id: "hum_1" })).toMatchObject({
      type: "humanization.completed",
      data: { id: "hum_1" },
    });
    expect(Number.isNaN(Date.parse(first.created_at))).toBe(false);
  });
});
