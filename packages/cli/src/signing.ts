import {
  KallimaWebhookError,
  type RawBody,
  type SignatureFormat,
  VERIFICATION_ERROR_CODES,
  type VerificationErrorCode,
  type VerifiedKallimaEvent,
  WebhookVerifier,
} from "@kallima/webhooks";
import { type SignedHeaders, signPayload } from "@kallima/webhooks/testing";
import { CliError } from "./errors.js";
import { parseSignatureFormat } from "./formats.js";

export type { SignedHeaders };

/** Options of {@link signBody}. */
export interface SignBodyOptions<TFormat extends SignatureFormat = SignatureFormat> {
  secret: string;
  /** The exact bytes that will be sent. */
  body: RawBody;
  /** Unix seconds; default now. */
  timestamp?: number;
  /**
   * `"x-headers"` (default: `X-Kallima-Signature` + `X-Kallima-Timestamp`) or
   * `"kallima-signature"` (one `Kallima-Signature: t=…,v1=…` header).
   */
  format?: TFormat;
}

/** The header(s) that authenticate a body, in the format asked for. */
export interface BodySignature<TFormat extends SignatureFormat = "x-headers"> {
  /** The lowercase hex HMAC-SHA256 (the `v1=` value in the `kallima-signature` format). */
  signature: string;
  timestamp: string;
  format: TFormat;
  headers: SignedHeaders<TFormat>;
}

/**
 * Signs a body exactly as Kallima does and returns the headers to send with it.
 *
 * @example
 * ```ts
 * const { headers } = await signBody({ secret, body: '{"id":"evt_1","type":"webhook.test"}' });
 * const combined = await signBody({ secret, body, format: "kallima-signature" });
 * combined.headers["kallima-signature"]; // "t=1776938400,v1=…"
 * ```
 */
export async function signBody<TFormat extends SignatureFormat = "x-headers">(
  options: SignBodyOptions<TFormat>,
): Promise<BodySignature<TFormat>> {
  if (options.format !== undefined) parseSignatureFormat(options.format, "format");
  try {
    const signed = await signPayload<TFormat>({
      secret: options.secret,
      payload: options.body,
      ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
      ...(options.format === undefined ? {} : { format: options.format }),
    });
    return {
      signature: signed.signature,
      timestamp: signed.timestamp,
      format: signed.format,
      headers: signed.headers,
    };
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
  /** `X-Kallima-Signature`'s value, or `Kallima-Signature`'s (`t=…,v1=…`). */
  signature: string;
  /** `X-Kallima-Timestamp`'s value; leave it out for a `Kallima-Signature` value. */
  timestamp?: string;
  /**
   * Which header `signature` comes from. Default: `x-headers` when `timestamp` is given, otherwise
   * `kallima-signature` when the value holds `=` (hex never does), otherwise `x-headers`.
   */
  format?: SignatureFormat;
  /** Freshness window in seconds; default 300. */
  toleranceSeconds?: number;
  /** Clock in epoch milliseconds; default `Date.now`. */
  now?: () => number;
}

/** The verdict of {@link verifyBody}, with the header format it read. */
export type VerifyBodyResult =
  | { valid: true; format: SignatureFormat; event: VerifiedKallimaEvent }
  | { valid: false; format: SignatureFormat; code: VerificationErrorCode; message: string };

/** The format a signature value is read in when none is named (see {@link VerifyBodyOptions}). */
export function inferSignatureFormat(signature: string, timestamp?: string): SignatureFormat {
  return timestamp === undefined && signature.includes("=") ? "kallima-signature" : "x-headers";
}

/**
 * Checks a body and its header value(s) with core's `WebhookVerifier`, and says why not when
 * it is not authentic (with the protocol's error code).
 *
 * @example
 * ```ts
 * const verdict = await verifyBody({ secret, body, signature, timestamp });
 * if (!verdict.valid) console.log(verdict.code); // "timestamp_too_old"
 * await verifyBody({ secret, body, signature: "t=1776938400,v1=…" }); // Kallima-Signature
 * ```
 */
export async function verifyBody(options: VerifyBodyOptions): Promise<VerifyBodyResult> {
  const format =
    options.format === undefined
      ? inferSignatureFormat(options.signature, options.timestamp)
      : parseSignatureFormat(options.format, "format");
  if (format === "kallima-signature" && options.timestamp !== undefined) {
    throw new CliError(
      "invalid_option",
      "A Kallima-Signature value carries its own timestamp (t=…): give no separate timestamp.",
    );
  }
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
  // A header record pins the format: by value alone, core would read a pair's signature that
  // holds `=` as a combined one, and a combined value without `=` as a pair.
  const headers =
    format === "kallima-signature"
      ? { "kallima-signature": options.signature }
      : {
          "x-kallima-signature": options.signature,
          ...(options.timestamp === undefined ? {} : { "x-kallima-timestamp": options.timestamp }),
        };
  try {
    const event = await verifier.verify({ payload: options.body, headers });
    return { valid: true, format, event };
  } catch (error) {
    if (error instanceof KallimaWebhookError && isVerificationCode(error.code)) {
      return { valid: false, format, code: error.code, message: error.message };
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
