import { Buffer, isUtf8 } from "node:buffer";
import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from "node:crypto";
import { decodeSignatureHex, decodeSignatures, SIGNATURE_BYTES } from "./hex.js";
import type { BodyBytes, SignatureEngine } from "./types.js";

// node:crypto's synchronous HMAC is ~20x faster than crypto.subtle for small bodies on Node.

export const engineName = "node:crypto";

/**
 * A secret as an HMAC key, imported once: `createHmac` given a string encodes it and builds a key
 * on every call (39.8k against 36.8k instructions for a 256-byte HMAC on Node 20, counted with
 * callgrind: packages/bench/notes.md).
 */
function importKey(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret, "utf8"));
}

function digest(key: KeyObject, timestamp: string, body: BodyBytes): Buffer {
  // One update for the prefix: each update() is a call into C++, which dominates small bodies.
  const hmac = createHmac("sha256", key).update(`${timestamp}.`, "latin1");
  return (typeof body === "string" ? hmac.update(body, "utf8") : hmac.update(body)).digest();
}

export function createSignatureEngine(secrets: readonly string[]): SignatureEngine {
  // The key is the secret's UTF-8 bytes, exactly as the protocol says.
  const keys = secrets.map(importKey);
  // The one candidate of the usual delivery is decoded here: matching is synchronous, so one
  // buffer serves every call.
  const single = Buffer.alloc(SIGNATURE_BYTES);
  const matchesSync = (timestamp: string, body: BodyBytes, candidates: readonly string[]) => {
    // One secret and one candidate is nearly every delivery: no arrays made for it.
    if (keys.length === 1 && candidates.length === 1) {
      if (!decodeSignatureHex(candidates[0]!, single)) return -1;
      return timingSafeEqual(digest(keys[0]!, timestamp, body), single) ? 0 : -1;
    }
    const expected = decodeSignatures(candidates);
    if (expected.length === 0) return -1;
    let matched = -1;
    for (let index = 0; index < keys.length; index++) {
      const actual = digest(keys[index]!, timestamp, body);
      // No early exit: the work done must not depend on which candidate matched.
      for (const candidate of expected) {
        if (timingSafeEqual(actual, candidate) && matched === -1) matched = index;
      }
    }
    return matched;
  };
  return {
    matches: matchesSync,
    matchesSync,
    async sign(timestamp, body) {
      return digest(keys[0]!, timestamp, body).toString("hex");
    },
  };
}

// Deno's TextDecoder is native and decoded a 1 MiB body about 25 % faster than its Buffer
// (packages/bench, part 5); Node's and Bun's Buffer are at least as fast as their TextDecoder.
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno === "object";
const lenient = new TextDecoder("utf-8", { ignoreBOM: true });
const fatal = new TextDecoder("utf-8", { ignoreBOM: true, fatal: true });

/** A lenient decoder writes U+FFFD for every invalid sequence: without one, the bytes were valid. */
function decodeWithTextDecoder(body: Uint8Array): string | undefined {
  const text = lenient.decode(body);
  if (!text.includes("\uFFFD")) return text;
  try {
    return fatal.decode(body);
  } catch {
    return undefined;
  }
}

export function decodeUtf8(body: BodyBytes): string | undefined {
  if (typeof body === "string") return body;
  if (isDeno) return decodeWithTextDecoder(body);
  // Decoding is lossy: two different signed bodies could decode to the same event id.
  if (!isUtf8(body)) return undefined;
  if (Buffer.isBuffer(body)) return body.toString("utf8");
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
}

export function utf8ByteLength(body: BodyBytes): number {
  return typeof body === "string" ? Buffer.byteLength(body, "utf8") : body.byteLength;
}
