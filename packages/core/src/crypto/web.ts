import type { BodyBytes, SignatureEngine } from "./types.js";

// Web Crypto: the one HMAC every edge runtime (Workers, Deno, Bun, Next Edge) has.

export const engineName = "web-crypto";

const encoder = new TextEncoder();
// ignoreBOM keeps a leading BOM, as Buffer#toString does, so both engines parse the same text;
// fatal refuses invalid UTF-8, which would otherwise decode lossily.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true, fatal: true });

function toBytes(body: BodyBytes): Uint8Array {
  return typeof body === "string" ? encoder.encode(body) : body;
}

function signedContent(timestamp: string, body: BodyBytes): Uint8Array {
  const prefix = encoder.encode(`${timestamp}.`);
  const bytes = toBytes(body);
  const content = new Uint8Array(prefix.byteLength + bytes.byteLength);
  content.set(prefix, 0);
  content.set(bytes, prefix.byteLength);
  return content;
}

function hexToBytes(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) {
    bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  }
  return bytes;
}

function bytesToHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/** Compares equal-length byte arrays without a data-dependent early exit. */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let difference = 0;
  for (let i = 0; i < a.byteLength; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}

export function createSignatureEngine(secrets: readonly string[]): SignatureEngine {
  let keys: Promise<Awaited<ReturnType<typeof crypto.subtle.importKey>>[]> | undefined;
  // Imported once, on first use, and reused: importKey is the costly part of a small HMAC.
  const importKeys = () => {
    keys ??= Promise.all(
      secrets.map((secret) =>
        crypto.subtle.importKey(
          "raw",
          encoder.encode(secret),
          { name: "HMAC", hash: "SHA-256" },
          false,
          ["sign"],
        ),
      ),
    );
    return keys;
  };
  const digests = async (timestamp: string, body: BodyBytes) => {
    const content = signedContent(timestamp, body);
    const imported = await importKeys();
    return Promise.all(
      imported.map(async (key) => new Uint8Array(await crypto.subtle.sign("HMAC", key, content))),
    );
  };
  return {
    async matches(timestamp, body, candidates) {
      const expected = candidates.map(hexToBytes);
      const actuals = await digests(timestamp, body);
      let matched = -1;
      for (let index = 0; index < actuals.length; index++) {
        for (const candidate of expected) {
          if (constantTimeEqual(actuals[index]!, candidate) && matched === -1) matched = index;
        }
      }
      return matched;
    },
    async sign(timestamp, body) {
      const [first] = await digests(timestamp, body);
      return bytesToHex(first!);
    },
  };
}

export function decodeUtf8(body: BodyBytes): string | undefined {
  if (typeof body === "string") return body;
  try {
    return decoder.decode(body);
  } catch {
    return undefined;
  }
}

export function utf8ByteLength(body: BodyBytes): number {
  if (typeof body !== "string") return body.byteLength;
  let length = 0;
  for (let i = 0; i < body.length; i++) {
    const unit = body.charCodeAt(i);
    if (unit < 0x80) length += 1;
    else if (unit < 0x800) length += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < body.length) {
      const next = body.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        length += 4;
        i++;
      } else length += 3;
    } else length += 3;
  }
  return length;
}
