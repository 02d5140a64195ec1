import { createHmac } from "node:crypto";

/**
 * Signs deliveries the way Kallima does (PROTOCOL.md), with node:crypto and nothing from the core
 * package, so that the core's own signer and verifier are what the tests check, never what they
 * check with. Used by the adapter suite, the core's tests and tools/runtimes.
 */

export const CONFORMANCE_SECRET = "whsec_conformanceSuiteSecret0123456789abcdef";
export const OTHER_SECRET = "whsec_someOtherEndpointSecret0123456789abcd";

/** Kallima's two header formats: the webhooks guide's pair, and the API reference's one header. */
export type DeliveryFormat = "x-headers" | "kallima-signature";

/** A raw delivery: headers and the exact body bytes. */
export interface ConformanceRequest {
  headers: Record<string, string>;
  body: Uint8Array;
  /** `POST` when absent. Apps must send the request with this method. */
  method?: string;
}

export interface SignOptions {
  /** The secret of the signature that matters (default {@link CONFORMANCE_SECRET}). */
  secret?: string;
  /** Unix seconds (default now). */
  timestamp?: number;
  /** Default `"x-headers"`. */
  format?: DeliveryFormat;
  /**
   * Further secrets to sign with, as a sender does during a rotation: their signatures come
   * first in the header (`v1=` items of `Kallima-Signature`, or comma-separated in
   * `X-Kallima-Signature`), the one of `secret` last.
   */
  extraSecrets?: readonly string[];
}

/** Lowercase hex HMAC-SHA256 of `<timestamp>.<body bytes>`. */
export function hmacHex(secret: string, timestamp: string | number, body: Uint8Array): string {
  return createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("hex");
}

/** Signs like Kallima, independently of the core package, in either header format. */
export function signDelivery(
  body: string | Uint8Array,
  options: SignOptions = {},
): ConformanceRequest {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const signatures = [...(options.extraSecrets ?? []), options.secret ?? CONFORMANCE_SECRET].map(
    (secret) => hmacHex(secret, timestamp, bytes),
  );
  const headers: Record<string, string> =
    options.format === "kallima-signature"
      ? {
          "kallima-signature": [`t=${timestamp}`, ...signatures.map((hex) => `v1=${hex}`)].join(
            ",",
          ),
        }
      : { "x-kallima-signature": signatures.join(","), "x-kallima-timestamp": timestamp };
  return { headers: { "content-type": "application/json", ...headers }, body: bytes };
}
