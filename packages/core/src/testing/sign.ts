import { createSignatureEngine } from "#crypto";
import { WebhookConfigError } from "../errors.js";
import type { SignatureFormat } from "../signature-headers.js";
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
  /**
   * Which of Kallima's header formats to send: `"x-headers"` (default: `X-Kallima-Signature` +
   * `X-Kallima-Timestamp`) or `"kallima-signature"` (`Kallima-Signature: t=…,v1=…`).
   */
  format?: SignatureFormat;
}

/** The headers of a signed delivery, in the format asked for. */
export type SignedHeaders<TFormat extends SignatureFormat = SignatureFormat> =
  TFormat extends "kallima-signature"
    ? { "content-type": "application/json"; "kallima-signature": string }
    : {
        "content-type": "application/json";
        "x-kallima-signature": string;
        "x-kallima-timestamp": string;
      };

/** A signed delivery: the exact body, and the headers that go with it. */
export interface SignedPayload<TFormat extends SignatureFormat = "x-headers"> {
  /** The body exactly as signed: send these bytes (a valid `fetch` body as it is). */
  body: string | Uint8Array<ArrayBuffer>;
  /** The lowercase hex HMAC-SHA256. */
  signature: string;
  timestamp: string;
  format: TFormat;
  headers: SignedHeaders<TFormat>;
}

/**
 * The signature headers of one delivery in either format, from its timestamp and signature.
 *
 * @example
 * ```ts
 * signatureHeaders("kallima-signature", "1776938400", hex); // { "kallima-signature": "t=…,v1=…" }
 * ```
 */
export function signatureHeaders<TFormat extends SignatureFormat>(
  format: TFormat,
  timestamp: string,
  signature: string,
): SignedHeaders<TFormat> {
  const headers =
    format === "kallima-signature"
      ? {
          "content-type": "application/json",
          "kallima-signature": `t=${timestamp},v1=${signature}`,
        }
      : {
          "content-type": "application/json",
          "x-kallima-signature": signature,
          "x-kallima-timestamp": timestamp,
        };
  return headers as SignedHeaders<TFormat>;
}

function validateFormat(format: unknown): SignatureFormat {
  if (format === undefined) return "x-headers";
  if (format === "x-headers" || format === "kallima-signature") return format;
  throw new WebhookConfigError(
    "invalid_option",
    `format must be "x-headers" or "kallima-signature", got ${JSON.stringify(format)}.`,
  );
}

function toSignedBody(payload: RawBody | object): string | Uint8Array<ArrayBuffer> {
  if (typeof payload === "string") return payload;
  if (payload instanceof Uint8Array) {
    // A view over a SharedArrayBuffer (or a Node pool) is copied, so the body is a fetch body.
    return payload.buffer instanceof ArrayBuffer
      ? (payload as Uint8Array<ArrayBuffer>)
      : new Uint8Array(payload);
  }
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
 * // The API reference's single header instead: Kallima-Signature: t=…,v1=…
 * await signPayload({ secret, payload: jobCompletedEvent(), format: "kallima-signature" });
 * ```
 */
export async function signPayload<TFormat extends SignatureFormat = "x-headers">(
  options: SignPayloadOptions & { format?: TFormat },
): Promise<SignedPayload<TFormat>> {
  const [secret] = normalizeSecrets(options.secret);
  const format = validateFormat(options.format) as TFormat;
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const body = toSignedBody(options.payload);
  const signature = await createSignatureEngine([secret!]).sign(timestamp, body);
  return {
    body,
    signature,
    timestamp,
    format,
    headers: signatureHeaders(format, timestamp, signature),
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
