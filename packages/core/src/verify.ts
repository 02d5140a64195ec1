import { createSignatureEngine, decodeUtf8, engineName } from "#crypto";
import type { BodyBytes, SignatureEngine } from "./crypto/types.js";
import { RawBodyUnavailableError, WebhookConfigError, WebhookSignatureError } from "./errors.js";
import type { VerifiedKallimaEvent } from "./events.js";
import type { HeadersInput, HeaderValue } from "./headers.js";
import {
  isCombinedSignature,
  MAX_SIGNATURES_PER_HEADER,
  parseKallimaSignature,
  parseSignatureHeaders,
  parseSignaturePair,
  type SignatureClaim,
  type SignatureFormat,
} from "./signature-headers.js";

/** The default freshness window, in seconds (Kallima's protocol). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const SECRET_PREFIX = "whsec_";

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

/**
 * What {@link WebhookVerifier.verify} checks: the raw body and the signature header values, in
 * either of Kallima's formats.
 *
 * - `X-Kallima-Signature` + `X-Kallima-Timestamp`: pass both values as `signature` and `timestamp`.
 * - `Kallima-Signature: t=…,v1=…`: pass its value as `signature` and leave `timestamp` out.
 */
export interface VerifyHeaderValues {
  /** The exact body bytes received. */
  payload: RawBody;
  /** `X-Kallima-Signature`'s value, or `Kallima-Signature`'s (`t=…,v1=…`) with no `timestamp`. */
  signature: HeaderValue;
  /** `X-Kallima-Timestamp`'s value; leave it out for a `Kallima-Signature` value. */
  timestamp?: HeaderValue;
}

/**
 * The raw body and all the request headers: the verifier picks the format, `Kallima-Signature`
 * when present (it alone is then verified), otherwise the `X-Kallima-*` pair.
 */
export interface VerifyRequestHeaders {
  /** The exact body bytes received. */
  payload: RawBody;
  /** The request's headers: a Fetch `Headers`, Node's `req.headers`, or a plain record. */
  headers: HeadersInput;
}

/** What {@link WebhookVerifier.verify} takes: header values, or the whole set of headers. */
export type VerifyInput = VerifyHeaderValues | VerifyRequestHeaders;

/** A verified delivery: the event, and how it was signed. */
export interface VerifiedDelivery {
  event: VerifiedKallimaEvent;
  /** The header format the delivery used. */
  format: SignatureFormat;
  /** Which configured secret matched: its index in the `secret` list (0 for a single secret). */
  secretIndex: number;
  /** The signed timestamp, in Unix seconds. */
  signedAt: number;
}

function isDelivery(
  value: VerifiedDelivery | Promise<VerifiedDelivery>,
): value is VerifiedDelivery {
  return !(value instanceof Promise);
}

function claimOf(input: VerifyInput): SignatureClaim {
  if ("headers" in input && input.headers !== undefined)
    return parseSignatureHeaders(input.headers);
  const { signature, timestamp } = input as VerifyHeaderValues;
  if ((timestamp === undefined || timestamp === null) && isCombinedSignature(signature)) {
    return parseKallimaSignature(signature);
  }
  return parseSignaturePair(signature, timestamp);
}

const HEADER_OF_FORMAT: Record<SignatureFormat, string> = {
  "x-headers": "X-Kallima-Signature",
  "kallima-signature": "Kallima-Signature",
};

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
  if (secret === SECRET_PREFIX) {
    throw new WebhookConfigError(
      "invalid_secret",
      `${name} is only the "${SECRET_PREFIX}" prefix: copy the whole signing secret from the Kallima dashboard.`,
    );
  }
  if (!secret.startsWith(SECRET_PREFIX)) {
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
    const got =
      typeof toleranceSeconds === "string"
        ? `${JSON.stringify(toleranceSeconds)} (a string: pass a number)`
        : String(toleranceSeconds);
    throw new WebhookConfigError(
      "invalid_tolerance",
      `toleranceSeconds must be a positive finite number of seconds, got ${got}. Replay protection cannot be turned off.`,
    );
  }
  return toleranceSeconds;
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

function rejectSignature(format: SignatureFormat): never {
  throw new WebhookSignatureError(
    "invalid_signature",
    `No signature in ${HEADER_OF_FORMAT[format]} matches the body under the configured secret(s) ` +
      `(at most the first ${MAX_SIGNATURES_PER_HEADER} signatures of a header are read).`,
  );
}

function verified(
  secretIndex: number,
  body: BodyBytes,
  format: SignatureFormat,
  signedAt: number,
): VerifiedDelivery {
  if (secretIndex < 0) rejectSignature(format);
  return { event: parseEvent(decodeUtf8(body)), format, secretIndex, signedAt };
}

/**
 * The verification as {@link WebhookVerifier} runs it: synchronous when the engine is, a promise
 * otherwise. For the handler, which awaits only what is really pending.
 */
export let verifyWithoutPromise: (
  verifier: WebhookVerifier,
  input: VerifyInput,
) => VerifiedDelivery | Promise<VerifiedDelivery>;

function parseEvent(text: string | undefined): VerifiedKallimaEvent {
  if (text === undefined) {
    throw new WebhookSignatureError(
      "invalid_payload",
      "The signed body is not valid UTF-8, so it is not a JSON event.",
    );
  }
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
 * // Either header format; the verifier picks the one the delivery used:
 * const event = await verifier.verify({ payload: rawBody, headers: request.headers });
 * // or by value: X-Kallima-Signature with X-Kallima-Timestamp, or Kallima-Signature alone
 * await verifier.verify({ payload: rawBody, signature: req.headers["kallima-signature"] });
 * ```
 */
export class WebhookVerifier {
  readonly toleranceSeconds: number;
  /** The HMAC implementation this runtime resolved to: `node:crypto` on Node, Bun and Deno, Web Crypto elsewhere. */
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
   * Returns the verified event, or rejects with a {@link WebhookSignatureError} whose `code` says
   * why not. Events of types this release does not know are returned too: they are authentic.
   */
  verify(input: VerifyInput): Promise<VerifiedKallimaEvent> {
    try {
      const verified = this.#verify(input);
      return isDelivery(verified)
        ? Promise.resolve(verified.event)
        : verified.then((delivery) => delivery.event);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Like {@link verify}, and also says how the delivery was signed: which header format, which
   * configured secret matched (its index, to watch a rotation), and when it was signed.
   *
   * @example
   * ```ts
   * const { event, secretIndex } = await verifier.verifyDelivery({ payload, headers });
   * if (secretIndex > 0) console.warn("still signed with an old secret");
   * ```
   */
  verifyDelivery(input: VerifyInput): Promise<VerifiedDelivery> {
    try {
      return Promise.resolve(this.#verify(input));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * {@link verify} without the promise, where the runtime's HMAC is synchronous (`node:crypto`,
   * on Node): returns the event or throws the {@link WebhookSignatureError}. For a small body
   * the promise is a measurable part of the cost. Where the engine is Web Crypto (`engine` is
   * `"web-crypto"`: Workers, Next.js Edge, browsers) it throws a {@link WebhookConfigError}
   * (`invalid_option`): use {@link verify} there.
   *
   * @example
   * ```ts
   * try {
   *   const event = verifier.verifySync({ payload: req.body, headers: req.headers });
   * } catch (error) {
   *   if (error instanceof WebhookSignatureError) res.status(error.status).end();
   * }
   * ```
   */
  verifySync(input: VerifyInput): VerifiedKallimaEvent {
    return this.verifyDeliverySync(input).event;
  }

  /** {@link verifyDelivery} without the promise, where the engine allows (see {@link verifySync}). */
  verifyDeliverySync(input: VerifyInput): VerifiedDelivery {
    if (this.#engine.matchesSync === undefined) {
      throw new WebhookConfigError(
        "invalid_option",
        `verifySync needs a synchronous HMAC (node:crypto); this runtime's engine is ${this.engine}. Use await verifier.verify() instead.`,
      );
    }
    const verified = this.#verify(input);
    // Unreachable with a synchronous engine; kept so that a change of engine cannot go unseen.
    if (!isDelivery(verified)) throw new Error("The synchronous engine answered asynchronously.");
    return verified;
  }

  static {
    verifyWithoutPromise = (verifier, input) => verifier.#verify(input);
  }

  /** Synchronous when the engine is (node:crypto): no promise is made until the caller's. */
  #verify(input: VerifyInput): VerifiedDelivery | Promise<VerifiedDelivery> {
    const { format, timestamp, candidates } = claimOf(input);
    const signedAt = Number(timestamp);
    this.#checkFreshness(signedAt);
    const body = toBodyBytes(input.payload);
    if (candidates.length === 0) return rejectSignature(format);
    const matched = this.#engine.matches(timestamp, body, candidates);
    if (typeof matched === "number") return verified(matched, body, format, signedAt);
    return matched.then((secretIndex) => verified(secretIndex, body, format, signedAt));
  }

  #checkFreshness(timestampSeconds: number): void {
    const nowSeconds = Math.floor(this.#now() / 1000);
    const age = nowSeconds - timestampSeconds;
    if (age > this.toleranceSeconds) {
      throw new WebhookSignatureError(
        "timestamp_too_old",
        `The delivery was signed ${age} s ago, more than the ${this.toleranceSeconds} s tolerance.`,
        { signedAt: timestampSeconds },
      );
    }
    if (-age > this.toleranceSeconds) {
      // Seconds since the epoch have 10 digits until 2286; 13 digits is milliseconds.
      const hint =
        timestampSeconds >= 1e12
          ? " The timestamp looks like milliseconds: Kallima signs Unix seconds."
          : " Check the server clock.";
      throw new WebhookSignatureError(
        "timestamp_in_future",
        `The delivery is dated ${-age} s in the future, more than the ${this.toleranceSeconds} s tolerance.${hint}`,
        { signedAt: timestampSeconds },
      );
    }
  }
}
