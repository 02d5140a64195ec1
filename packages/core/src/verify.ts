import { createSignatureEngine, decodeUtf8, engineName } from "#crypto";
import type { BodyBytes, SignatureEngine } from "./crypto/types.js";
import { RawBodyUnavailableError, WebhookConfigError, WebhookSignatureError } from "./errors.js";
import type { VerifiedKallimaEvent } from "./events.js";
import type { HeaderValue } from "./headers.js";

/** The default freshness window, in seconds (PROTOCOL.md). */
export const DEFAULT_TOLERANCE_SECONDS = 300;
/** At most this many signatures are read from one header; the rest are ignored. */
export const MAX_SIGNATURES_PER_HEADER = 8;

const SECRET_PREFIX = "whsec_";
const TIMESTAMP_PATTERN = /^\d{1,15}$/;
const SIGNATURE_PATTERN = /^[0-9a-fA-F]{64}$/;

/** The raw request body, exactly as received. A Node `Buffer` is a `Uint8Array`. */
export type RawBody = string | Uint8Array | ArrayBuffer;

/** Options of {@link WebhookVerifier}. */
export interface WebhookVerifierOptions {
  /**
   * The endpoint's signing secret (`whsec_…`), or several during a rotation: a delivery
   * signed with any of them is authentic.
   */
  secret: string | readonly string[];
  /** How far the signing time may be from now, in seconds. Default 300. */
  toleranceSeconds?: number;
  /** The clock, in milliseconds since the epoch (like `Date.now`). Inject it in tests. */
  now?: () => number;
}

/** What {@link WebhookVerifier.verify} checks: the raw body and the two header values as received. */
export interface VerifyInput {
  payload: RawBody;
  signature: HeaderValue;
  timestamp: HeaderValue;
}

function describeSecret(index: number | undefined): string {
  return index === undefined ? "The secret" : `secret[${index}]`;
}

function validateSecret(secret: unknown, index?: number): string {
  const name = describeSecret(index);
  if (typeof secret !== "string") {
    throw new WebhookConfigError(
      "invalid_secret",
      `${name} must be a string, got ${typeof secret}.`,
    );
  }
  if (secret.trim() === "") {
    throw new WebhookConfigError(
      "invalid_secret",
      `${name} is empty. Set it to the endpoint's signing secret (whsec_…) from the Kallima dashboard.`,
    );
  }
  if (secret !== secret.trim()) {
    throw new WebhookConfigError(
      "invalid_secret",
      `${name} has leading or trailing whitespace (often a newline from a file or an env var). Remove it: the secret is used byte for byte.`,
    );
  }
  if (!secret.startsWith(SECRET_PREFIX) || secret.length === SECRET_PREFIX.length) {
    throw new WebhookConfigError(
      "invalid_secret",
      `${name} does not look like a Kallima signing secret: it must start with "${SECRET_PREFIX}" and the whole string, prefix included, is the key.`,
    );
  }
  return secret;
}

/** Validates `secret` as one secret or a non-empty list of them; never echoes a secret. */
export function normalizeSecrets(secret: unknown): string[] {
  if (Array.isArray(secret)) {
    if (secret.length === 0) {
      throw new WebhookConfigError(
        "invalid_secret",
        "The secret list is empty: give at least one.",
      );
    }
    return secret.map((value, index) => validateSecret(value, index));
  }
  return [validateSecret(secret)];
}

/** Validates `toleranceSeconds` (default 300). */
export function normalizeTolerance(toleranceSeconds: unknown): number {
  if (toleranceSeconds === undefined) return DEFAULT_TOLERANCE_SECONDS;
  if (
    typeof toleranceSeconds !== "number" ||
    !Number.isFinite(toleranceSeconds) ||
    toleranceSeconds <= 0
  ) {
    throw new WebhookConfigError(
      "invalid_tolerance",
      `toleranceSeconds must be a positive finite number of seconds, got ${String(toleranceSeconds)}. Replay protection cannot be turned off.`,
    );
  }
  return toleranceSeconds;
}

function singleHeader(value: HeaderValue): string | undefined | false {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  if (value.length === 0) return undefined;
  // A header that arrived more than once is not trusted.
  return value.length === 1 && typeof value[0] === "string" ? value[0] : false;
}

/** The well-formed signatures of a header, at most {@link MAX_SIGNATURES_PER_HEADER} read. */
function signatureCandidates(header: string): string[] {
  // The common case, one signature, skips the split.
  if (header.length === 64 && SIGNATURE_PATTERN.test(header)) return [header];
  const candidates: string[] = [];
  for (const part of header.split(",", MAX_SIGNATURES_PER_HEADER)) {
    const candidate = part.trim();
    if (SIGNATURE_PATTERN.test(candidate)) candidates.push(candidate);
  }
  return candidates;
}

function toBodyBytes(payload: unknown): BodyBytes {
  if (typeof payload === "string" || payload instanceof Uint8Array) return payload;
  if (payload instanceof ArrayBuffer) return new Uint8Array(payload);
  if (ArrayBuffer.isView(payload)) {
    return new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
  }
  const got = payload === null ? "null" : typeof payload;
  throw new RawBodyUnavailableError(
    `The payload must be the raw request body (string, Uint8Array, Buffer or ArrayBuffer), got ${got}. ` +
      "If a body parser already turned it into an object, give the verifier the bytes it read instead: the signature covers the exact bytes.",
  );
}

function rejectSignature(): never {
  throw new WebhookSignatureError(
    "invalid_signature",
    "No signature in X-Kallima-Signature matches the body under the configured secret(s).",
  );
}

function parseEvent(text: string): VerifiedKallimaEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new WebhookSignatureError("invalid_payload", "The signed body is not valid JSON.", {
      cause: error,
    });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new WebhookSignatureError("invalid_payload", "The signed body is not a JSON object.");
  }
  const { id, type } = parsed as { id?: unknown; type?: unknown };
  if (typeof id !== "string" || id === "" || typeof type !== "string" || type === "") {
    throw new WebhookSignatureError(
      "invalid_payload",
      'The signed body is not a Kallima event: it needs a non-empty string "id" and "type".',
    );
  }
  return parsed as VerifiedKallimaEvent;
}

/**
 * Verifies Kallima webhook deliveries: signature (HMAC-SHA256 over `timestamp.body`, compared
 * in constant time), freshness, and the event envelope. The body is parsed only once it is
 * authentic.
 *
 * @example
 * ```ts
 * const verifier = new WebhookVerifier({ secret: process.env.KALLIMA_WEBHOOK_SECRET! });
 * const event = await verifier.verify({
 *   payload: rawBody,
 *   signature: headers["x-kallima-signature"],
 *   timestamp: headers["x-kallima-timestamp"],
 * });
 * ```
 */
export class WebhookVerifier {
  readonly toleranceSeconds: number;
  /** The HMAC implementation this runtime resolved to: `node:crypto` on Node, Web Crypto elsewhere. */
  readonly engine: "node:crypto" | "web-crypto" = engineName;
  readonly #engine: SignatureEngine;
  readonly #now: () => number;

  constructor(options: WebhookVerifierOptions) {
    if (typeof options !== "object" || options === null) {
      throw new WebhookConfigError(
        "invalid_option",
        "WebhookVerifier needs an options object: { secret }.",
      );
    }
    const secrets = normalizeSecrets(options.secret);
    this.toleranceSeconds = normalizeTolerance(options.toleranceSeconds);
    if (options.now !== undefined && typeof options.now !== "function") {
      throw new WebhookConfigError(
        "invalid_option",
        "now must be a function returning epoch milliseconds.",
      );
    }
    this.#now = options.now ?? Date.now;
    this.#engine = createSignatureEngine(secrets);
  }

  /**
   * Returns the verified event, or throws a {@link WebhookSignatureError} whose `code` says why not.
   * Events of types this release does not know are returned too: they are authentic.
   */
  verify(input: VerifyInput): Promise<VerifiedKallimaEvent> {
    try {
      return Promise.resolve(this.#verify(input));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Synchronous when the engine is (node:crypto): no promise is made until the caller's. */
  #verify(input: VerifyInput): VerifiedKallimaEvent | Promise<VerifiedKallimaEvent> {
    const signatureHeader = singleHeader(input.signature);
    if (signatureHeader === undefined || signatureHeader === "") {
      throw new WebhookSignatureError(
        "missing_signature",
        "The X-Kallima-Signature header is missing.",
      );
    }
    if (signatureHeader === false) {
      throw new WebhookSignatureError(
        "invalid_signature",
        "The X-Kallima-Signature header arrived more than once.",
      );
    }
    const timestampHeader = singleHeader(input.timestamp);
    if (timestampHeader === undefined || timestampHeader === "") {
      throw new WebhookSignatureError(
        "missing_timestamp",
        "The X-Kallima-Timestamp header is missing.",
      );
    }
    if (timestampHeader === false || !TIMESTAMP_PATTERN.test(timestampHeader)) {
      throw new WebhookSignatureError(
        "invalid_timestamp",
        "The X-Kallima-Timestamp header must be decimal Unix seconds (digits only).",
      );
    }
    this.#checkFreshness(Number(timestampHeader));

    const candidates = signatureCandidates(signatureHeader);
    const body = toBodyBytes(input.payload);
    if (candidates.length === 0) return rejectSignature();
    const matched = this.#engine.matches(timestampHeader, body, candidates);
    if (typeof matched === "boolean")
      return matched ? parseEvent(decodeUtf8(body)) : rejectSignature();
    return matched.then((ok) => (ok ? parseEvent(decodeUtf8(body)) : rejectSignature()));
  }

  #checkFreshness(timestampSeconds: number): void {
    const nowSeconds = Math.floor(this.#now() / 1000);
    const age = nowSeconds - timestampSeconds;
    if (age > this.toleranceSeconds) {
      throw new WebhookSignatureError(
        "timestamp_too_old",
        `The delivery was signed ${age} s ago, more than the ${this.toleranceSeconds} s tolerance.`,
      );
    }
    if (-age > this.toleranceSeconds) {
      throw new WebhookSignatureError(
        "timestamp_in_future",
        `The delivery is dated ${-age} s in the future, more than the ${this.toleranceSeconds} s tolerance. Check the server clock.`,
      );
    }
  }
}
