import { describe, expect, it } from "vitest";
import {
  createWebhookHandler,
  VERIFICATION_ERROR_CODES,
  WebhookSignatureError,
  WebhookVerifier,
} from "./index.js";
import {
  allVectors,
  bodyOf,
  header,
  kallimaSignatureVectors,
  type TestVector,
  vectors,
} from "./test-support/vectors.js";

const STATUS: Record<string, number> = {
  ok: 200,
  missing_signature: 400,
  missing_timestamp: 400,
  invalid_timestamp: 400,
  invalid_payload: 400,
  invalid_signature: 401,
  timestamp_too_old: 401,
  timestamp_in_future: 401,
};

/** The header values a call site passes by hand, for each format. */
function headerValues(format: string, vector: TestVector) {
  if (format === "kallima-signature") return { signature: header(vector, "kallima-signature") };
  return {
    signature: header(vector, "x-kallima-signature"),
    timestamp: header(vector, "x-kallima-timestamp"),
  };
}

describe("shared test vectors (../shared/test-vectors.json)", () => {
  it("loads every vector of both lists and knows every expected code", () => {
    expect(vectors.length).toBeGreaterThanOrEqual(39);
    expect(kallimaSignatureVectors.length).toBeGreaterThanOrEqual(24);
    for (const { vector } of allVectors) {
      expect(["ok", ...VERIFICATION_ERROR_CODES]).toContain(vector.expect);
    }
  });

  describe.each(
    allVectors.map(({ format, vector }) => [`${format}: ${vector.name}`, format, vector] as const),
  )("%s", (_name, format, vector) => {
    const options = {
      secret: vector.secrets,
      now: () => vector.now * 1000,
      ...(vector.tolerance_seconds ? { toleranceSeconds: vector.tolerance_seconds } : {}),
    };

    it(`WebhookVerifier answers ${vector.expect}`, async () => {
      const verifier = new WebhookVerifier(options);
      const attempt = verifier.verify({ payload: bodyOf(vector), ...headerValues(format, vector) });
      if (vector.expect === "ok") {
        const event = await attempt;
        expect(event.type).toBe(vector.event_type);
        expect(event.id).toBe(vector.event_id);
      } else {
        const error = await attempt.then(
          () => undefined,
          (caught: unknown) => caught,
        );
        expect(error).toBeInstanceOf(WebhookSignatureError);
        expect((error as WebhookSignatureError).code).toBe(vector.expect);
      }
    });

    it(`the same bytes as a string answer ${vector.expect} too`, async () => {
      const verifier = new WebhookVerifier(options);
      const text = new TextDecoder().decode(bodyOf(vector));
      // Only bodies that survive a UTF-8 round trip can be passed as text.
      if (!Buffer.from(text, "utf8").equals(Buffer.from(bodyOf(vector)))) return;
      const outcome = await verifier
        .verify({ payload: text, ...headerValues(format, vector) })
        .then(
          () => "ok",
          (error: WebhookSignatureError) => error.code,
        );
      expect(outcome).toBe(vector.expect);
    });

    it(`WebhookVerifier given all the headers answers ${vector.expect}`, async () => {
      const verifier = new WebhookVerifier(options);
      const outcomes = await Promise.all(
        [vector.headers, new Headers(vector.headers)].map((headers) =>
          verifier.verify({ payload: bodyOf(vector), headers }).then(
            (event) => ["ok", event.id],
            (error: WebhookSignatureError) => [error.code, undefined],
          ),
        ),
      );
      const expected = [vector.expect, vector.expect === "ok" ? vector.event_id : undefined];
      expect(outcomes).toEqual([expected, expected]);
    });

    it(`createWebhookHandler answers ${STATUS[vector.expect]}`, async () => {
      const seen: string[] = [];
      const handler = createWebhookHandler({
        ...options,
        onUnhandled: (event) => void seen.push(event.id),
      });
      const result = await handler.handle({ headers: vector.headers, rawBody: bodyOf(vector) });
      expect(result.status).toBe(STATUS[vector.expect]);
      if (vector.expect === "ok") {
        expect(seen).toEqual([vector.event_id]);
        expect(JSON.parse(result.body)).toMatchObject({ received: true });
      } else {
        expect(seen).toEqual([]);
        expect(JSON.parse(result.body)).toMatchObject({ error: { code: vector.expect } });
      }
    });
  });
});
