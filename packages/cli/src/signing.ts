import {
  KallimaWebhookError,
  type RawBody,
  VERIFICATION_ERROR_CODES,
  type VerificationErrorCode,
  type VerifiedKallimaEvent,
  WebhookVerifier,
} from "@kallima/webhooks";
import { signPayload } from "@kallima/webhooks/testing";
import { CliError } from "./errors.js";

/** Options of {@link signBody}. */
export interface SignBodyOptions {
  secret: string;
  /** The exact bytes that will be sent. */
  body: RawBody;
  /** Unix seconds; default now. */
  timestamp?: number;
}

/** The two headers that authenticate a body. */
export interface BodySignature {
  signature: string;
  timestamp: string;
  headers: {
    "content-type": "application/json";
    "x-kallima-signature": string;
    "x-kallima-timestamp": string;
  };
}

/**
 * Signs a body exactly as Kallima does and returns the headers to send with it.
 *
 * @example
 * ```ts
 * const { headers } = await signBody({ secret, body: '{"id":"evt_1","type":"webhook.test"}' });
 * ```
 */
export async function signBody(options: SignBodyOptions): Promise<BodySignature> {
  try {
    const signed = await signPayload({
      secret: options.secret,
      payload: options.body,
      ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
    });
    return { signature: signed.signature, timestamp: signed.timestamp, headers: signed.headers };
  } catch (error) {
    throw asSecretError(error);
  }
}

/** Quotes a word for a POSIX shell. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/**
 * The `curl` command that sends a signed body: from a file (`--data-binary @file`, exact bytes)
 * or inline.
 *
 * @example
 * ```ts
 * curlCommand({ url, headers: signature.headers, file: "event.json" });
 * // curl -X POST http://… -H 'content-type: application/json' … --data-binary @event.json
 * ```
 */
export function curlCommand(options: {
  url: string;
  headers: Record<string, string>;
  file?: string;
  body?: string;
}): string {
  const parts = ["curl", "-sS", "-X", "POST", shellQuote(options.url)];
  for (const [name, value] of Object.entries(options.headers)) {
    parts.push("-H", shellQuote(`${name}: ${value}`));
  }
  parts.push(
    "--data-binary",
    options.file === undefined ? shellQuote(options.body ?? "") : shellQuote(`@${options.file}`),
  );
  return parts.join(" ");
}

/** Options of {@link verifyBody}. */
export interface VerifyBodyOptions {
  secret: string | readonly string[];
  body: RawBody;
  signature: string;
  timestamp: string;
  /** Freshness window in seconds; default 300. */
  toleranceSeconds?: number;
  /** Clock in epoch milliseconds; default `Date.now`. */
  now?: () => number;
}

/** The verdict of {@link verifyBody}. */
export type VerifyBodyResult =
  | { valid: true; event: VerifiedKallimaEvent }
  | { valid: false; code: VerificationErrorCode; message: string };

/**
 * Checks a body and its two header values with core's `WebhookVerifier`, and says why not when
 * it is not authentic (with the protocol's error code).
 *
 * @example
 * ```ts
 * const verdict = await verifyBody({ secret, body, signature, timestamp });
 * if (!verdict.valid) console.log(verdict.code); // "timestamp_too_old"
 * ```
 */
export async function verifyBody(options: VerifyBodyOptions): Promise<VerifyBodyResult> {
  let verifier: WebhookVerifier;
  try {
    verifier = new WebhookVerifier({
      secret: options.secret,
      ...(options.toleranceSeconds === undefined
        ? {}
        : { toleranceSeconds: options.toleranceSeconds }),
      ...(options.now ? { now: options.now } : {}),
    });
  } catch (error) {
    throw asSecretError(error);
  }
  try {
    const event = await verifier.verify({
      payload: options.body,
      signature: options.signature,
      timestamp: options.timestamp,
    });
    return { valid: true, event };
  } catch (error) {
    if (error instanceof KallimaWebhookError && isVerificationCode(error.code)) {
      return { valid: false, code: error.code, message: error.message };
    }
    throw error;
  }
}

const VERIFICATION_CODES: ReadonlySet<string> = new Set(VERIFICATION_ERROR_CODES);

function isVerificationCode(code: string): code is VerificationErrorCode {
  return VERIFICATION_CODES.has(code);
}

function asSecretError(error: unknown): unknown {
  if (error instanceof KallimaWebhookError && error.code === "invalid_secret") {
    return new CliError("invalid_secret", error.message, { cause: error });
  }
  if (error instanceof KallimaWebhookError && error.code === "invalid_tolerance") {
    return new CliError("invalid_option", error.message, { cause: error });
  }
  return error;
}
