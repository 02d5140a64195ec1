import { createSignatureEngine } from "#crypto";
import type { RawBody } from "../verify.js";
import { normalizeSecrets } from "../verify.js";

/** Options of {@link signPayload}. */
export interface SignPayloadOptions {
  /** The signing secret (`whsec_…`). */
  secret: string;
  /** The body to sign: bytes as sent, or an object that is serialized with `JSON.stringify`. */
  payload: RawBody | object;
  /** Unix seconds at signing. Default: now. */
  timestamp?: number | string;
}

/** A signed delivery: the exact body, and the headers that go with it. */
export interface SignedPayload {
  /** The body exactly as signed: send these bytes. */
  body: string | Uint8Array;
  signature: string;
  timestamp: string;
  headers: {
    "content-type": "application/json";
    "x-kallima-signature": string;
    "x-kallima-timestamp": string;
  };
}

function toSignedBody(payload: RawBody | object): string | Uint8Array {
  if (typeof payload === "string" || payload instanceof Uint8Array) return payload;
  if (payload instanceof ArrayBuffer) return new Uint8Array(payload);
  return JSON.stringify(payload);
}

/**
 * Signs a body exactly as Kallima does, for tests and local tools.
 *
 * @example
 * ```ts
 * const { body, headers } = await signPayload({ secret, payload: jobCompletedEvent() });
 * await fetch(url, { method: "POST", headers, body });
 * ```
 */
export async function signPayload(options: SignPayloadOptions): Promise<SignedPayload> {
  const [secret] = normalizeSecrets(options.secret);
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const body = toSignedBody(options.payload);
  const signature = await createSignatureEngine([secret!]).sign(timestamp, body);
  return {
    body,
    signature,
    timestamp,
    headers: {
      "content-type": "application/json",
      "x-kallima-signature": signature,
      "x-kallima-timestamp": timestamp,
    },
  };
}

/** Options of {@link createSignedRequest}. */
export interface SignedRequestOptions extends SignPayloadOptions {
  /** Default `http://localhost/kallima-events`. */
  url?: string;
  /** Extra or overriding headers. */
  headers?: Record<string, string>;
}

/**
 * Builds a signed Fetch `Request`, ready for a route handler or `app.request()`.
 *
 * @example
 * ```ts
 * const response = await POST(await createSignedRequest({ secret, payload: jobFailedEvent() }));
 * ```
 */
export async function createSignedRequest(options: SignedRequestOptions): Promise<Request> {
  const signed = await signPayload(options);
  return new Request(options.url ?? "http://localhost/kallima-events", {
    method: "POST",
    headers: { ...signed.headers, ...options.headers },
    body: signed.body as NonNullable<RequestInit["body"]>,
  });
}
