import { randomBytes } from "node:crypto";
import { signPayload } from "@kallima/webhooks/testing";
import type { DeliveryFault, SignatureFormat } from "./wire.js";

/** The body bytes Kallima keeps of an answer. */
export const RESPONSE_BODY_LIMIT = 4096;

/** Seconds in the past a `stale_timestamp` attempt is signed at: far outside the 300 s window. */
export const STALE_AGE_SECONDS = 3600;

/** One POST of one signed event. */
export interface AttemptRequest {
  url: string;
  secret: string;
  format: SignatureFormat;
  /** The event envelope, serialized once here: these are the bytes signed. */
  envelope: Record<string, unknown>;
  fault: DeliveryFault | null;
  timeoutMs: number;
}

/** What came back, or why nothing did. */
export interface AttemptOutcome {
  status: number | null;
  body: string | null;
  latencyMs: number;
  error: string | null;
}

async function readCapped(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < RESPONSE_BODY_LIMIT) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    // The rest is not kept; stop the download instead of draining it.
    await reader.cancel().catch(() => undefined);
  }
  const bytes = Buffer.concat(chunks).subarray(0, RESPONSE_BODY_LIMIT);
  return new TextDecoder().decode(bytes);
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code;
  // fetch's own refusals (a port it never connects to, such as 9) carry only a message.
  if (cause?.message) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Signs the event as PROTOCOL.md says (HMAC-SHA256 over `timestamp.body`, in the endpoint's header
 * format) with the fault asked for, POSTs it, and reports the answer. Any non-2xx answer, and no
 * answer within `timeoutMs`, is a failed attempt; redirects are not followed.
 */
export async function attemptDelivery(request: AttemptRequest): Promise<AttemptOutcome> {
  const signedBody = JSON.stringify(request.envelope);
  const now = Math.floor(Date.now() / 1000);
  const signed = await signPayload({
    secret:
      request.fault === "wrong_secret"
        ? `whsec_${randomBytes(24).toString("base64url")}`
        : request.secret,
    payload: signedBody,
    timestamp: request.fault === "stale_timestamp" ? now - STALE_AGE_SECONDS : now,
    format: request.format,
  });
  // A tampered body is still plausible JSON: one field changed after signing.
  const body =
    request.fault === "tampered_body"
      ? JSON.stringify({ ...request.envelope, type: `${String(request.envelope.type)}.tampered` })
      : signedBody;
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const response = await fetch(request.url, {
      method: "POST",
      headers: { ...signed.headers, "user-agent": "kallima-webhooks-dev" },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(request.timeoutMs),
    });
    const text = await readCapped(response);
    return { status: response.status, body: text, latencyMs: elapsed(), error: null };
  } catch (error) {
    const name = (error as { name?: string }).name;
    const reason = name === "TimeoutError" ? "timeout" : describeNetworkError(error);
    return { status: null, body: null, latencyMs: elapsed(), error: reason };
  }
}
