import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WebhookSignatureError, WebhookVerifier } from "./index.js";
import { signPayload } from "./testing.js";

const SECRET = "whsec_propertyTestSecret000000000000000";
const NOW = 1_776_938_400;
const verifier = new WebhookVerifier({ secret: SECRET, now: () => NOW * 1000 });

async function outcome(
  payload: Uint8Array | string,
  signature: unknown,
  timestamp: unknown,
): Promise<string> {
  try {
    await verifier.verify({
      payload,
      signature: signature as string,
      timestamp: timestamp as string,
    });
    return "ok";
  } catch (error) {
    if (error instanceof WebhookSignatureError) return error.code;
    throw error;
  }
}

const runs = { numRuns: 200 };

describe("verification properties (fast-check)", () => {
  it("any byte string signed by the helper passes the signature check", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), async (body) => {
        const signed = await signPayload({ secret: SECRET, payload: body, timestamp: NOW });
        // Arbitrary bytes are rarely an event: authentic but not JSON is invalid_payload, never a signature error.
        expect(["ok", "invalid_payload"]).toContain(
          await outcome(body, signed.signature, signed.timestamp),
        );
      }),
      runs,
    );
  });

  it("any event envelope with arbitrary JSON data verifies and round-trips", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1 }),
        fc.string({ minLength: 1 }),
        fc.jsonValue(),
        async (id, type, data) => {
          const body = JSON.stringify({ id, type, data });
          const signed = await signPayload({ secret: SECRET, payload: body, timestamp: NOW });
          const event = await verifier.verify({
            payload: new TextEncoder().encode(body),
            signature: signed.signature,
            timestamp: signed.timestamp,
          });
          expect(event).toEqual(JSON.parse(body));
        },
      ),
      runs,
    );
  });

  it("changing any single byte of the body fails with invalid_signature", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 512 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (body, position, delta) => {
          const signed = await signPayload({ secret: SECRET, payload: body, timestamp: NOW });
          const changed = body.slice();
          const index = position % changed.length;
          changed[index] = (changed[index]! + delta) % 256;
          expect(await outcome(changed, signed.signature, signed.timestamp)).toBe(
            "invalid_signature",
          );
        },
      ),
      runs,
    );
  });

  it("changing any single character of the timestamp or signature fails", async () => {
    const signed = await signPayload({
      secret: SECRET,
      payload: '{"id":"evt","type":"t"}',
      timestamp: NOW,
    });
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.nat(),
        fc.integer({ min: 32, max: 126 }),
        async (inTimestamp, position, code) => {
          const original = inTimestamp ? signed.timestamp : signed.signature;
          const index = position % original.length;
          const replacement = String.fromCharCode(code);
          fc.pre(replacement.toLowerCase() !== original[index]!.toLowerCase());
          const changed = original.slice(0, index) + replacement + original.slice(index + 1);
          const result = inTimestamp
            ? await outcome(signed.body, signed.signature, changed)
            : await outcome(signed.body, changed, signed.timestamp);
          expect(result).not.toBe("ok");
          if (!inTimestamp) expect(result).toBe("invalid_signature");
        },
      ),
      runs,
    );
  });

  it("random header garbage only ever yields a coded WebhookSignatureError", async () => {
    const headerValue = fc.oneof(
      fc.string(),
      fc.string({ unit: "binary" }),
      fc.array(fc.string(), { maxLength: 3 }),
      fc.constantFrom(undefined, null, "", ",", ",,,,", "0".repeat(64), String(NOW)),
      fc.stringMatching(/^[0-9a-fA-F,\s]{0,300}$/),
    );
    await fc.assert(
      fc.asyncProperty(
        headerValue,
        headerValue,
        fc.string(),
        async (signature, timestamp, body) => {
          const result = await outcome(body, signature, timestamp);
          expect(result).not.toBe("ok");
        },
      ),
      { numRuns: 300 },
    );
  });
});
