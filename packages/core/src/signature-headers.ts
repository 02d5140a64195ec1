import { WebhookSignatureError } from "./errors.js";
import {
  type HeadersInput,
  type HeaderValue,
  KALLIMA_SIGNATURE_HEADER,
  readSignatureHeaders,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
} from "./headers.js";

/**
 * At most this many signatures are read from one header (the first ones); the rest are ignored,
 * so a forged header cannot make one request cost thousands of comparisons. A rotation needs two.
 */
export const MAX_SIGNATURES_PER_HEADER = 8;

/** Decimal digits only, at most 15 of them: Unix seconds, which `Number` reads exactly. */
function isTimestampDigits(value: string): boolean {
  if (value.length < 1 || value.length > 15) return false;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x30 || code > 0x39) return false;
  }
  return true;
}

// A signature is 64 hex digits; the engine checks the digits as it decodes them (one pass), so
// the parser keeps every item of that length and leaves the rest out.
const SIGNATURE_LENGTH = 64;

/** Which of Kallima's two header formats a delivery used. */
export type SignatureFormat =
  /** `X-Kallima-Signature: <hex>[,<hex>…]` with `X-Kallima-Timestamp: <unix>` (the webhooks guide). */
  | "x-headers"
  /** `Kallima-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]` (the API reference). */
  | "kallima-signature";

/** What both formats come down to: the signed timestamp and the candidate signatures. */
export interface SignatureClaim {
  format: SignatureFormat;
  /** The timestamp exactly as sent (digits only), which is what was signed. */
  timestamp: string;
  /** Well-formed candidates (64 hex digits), at most {@link MAX_SIGNATURES_PER_HEADER}. */
  candidates: string[];
}

function singleHeader(value: HeaderValue): string | undefined | false {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  if (value.length === 0) return undefined;
  // A header that arrived more than once is not trusted (Kallima's protocol).
  return value.length === 1 && typeof value[0] === "string" ? value[0] : false;
}

function repeated(header: string): never {
  throw new WebhookSignatureError(
    header === TIMESTAMP_HEADER ? "invalid_timestamp" : "invalid_signature",
    `The ${displayName(header)} header arrived more than once; a repeated signature header is malformed.`,
  );
}

function displayName(header: string): string {
  if (header === KALLIMA_SIGNATURE_HEADER) return "Kallima-Signature";
  return header === TIMESTAMP_HEADER ? "X-Kallima-Timestamp" : "X-Kallima-Signature";
}

function checkTimestamp(timestamp: string, where: string): string {
  if (!isTimestampDigits(timestamp)) {
    throw new WebhookSignatureError(
      "invalid_timestamp",
      `${where} must be decimal Unix seconds (digits only).`,
    );
  }
  return timestamp;
}

/** The signature-length items of an `X-Kallima-Signature` value, the first few read. */
function signatureCandidates(header: string): string[] {
  // The common case, one signature, skips the split.
  if (header.length === SIGNATURE_LENGTH) return [header];
  const candidates: string[] = [];
  for (const part of header.split(",", MAX_SIGNATURES_PER_HEADER)) {
    const candidate = part.trim();
    if (candidate.length === SIGNATURE_LENGTH) candidates.push(candidate);
  }
  return candidates;
}

/** Reads the `X-Kallima-Signature` / `X-Kallima-Timestamp` pair. */
export function parseSignaturePair(signature: HeaderValue, timestamp: HeaderValue): SignatureClaim {
  const signatureValue = singleHeader(signature);
  if (signatureValue === undefined || signatureValue === "") {
    throw new WebhookSignatureError(
      "missing_signature",
      "The X-Kallima-Signature header is missing (and there is no Kallima-Signature header).",
    );
  }
  if (signatureValue === false) repeated(SIGNATURE_HEADER);
  const timestampValue = singleHeader(timestamp);
  if (timestampValue === undefined || timestampValue === "") {
    throw new WebhookSignatureError(
      "missing_timestamp",
      "The X-Kallima-Timestamp header is missing.",
    );
  }
  if (timestampValue === false) repeated(TIMESTAMP_HEADER);
  return {
    format: "x-headers",
    timestamp: checkTimestamp(timestampValue, "The X-Kallima-Timestamp header"),
    candidates: signatureCandidates(signatureValue),
  };
}

/**
 * `t=<digits>,v1=<64 characters>` exactly, without a regular expression (V8 ran the one this
 * replaced in about the time of the HMAC of a small body). Anything else takes the general path.
 */
function commonForm(header: string): SignatureClaim | undefined {
  const comma = header.indexOf(",");
  if (
    comma < 3 ||
    header.length !== comma + 4 + SIGNATURE_LENGTH ||
    !header.startsWith("t=") ||
    !header.startsWith("v1=", comma + 1) ||
    header.includes(",", comma + 4)
  ) {
    return undefined;
  }
  const timestamp = header.slice(2, comma);
  if (!isTimestampDigits(timestamp)) return undefined;
  return { format: "kallima-signature", timestamp, candidates: [header.slice(comma + 4)] };
}

/**
 * Reads a `Kallima-Signature: t=…,v1=…` value: items split on `,`, whitespace around them
 * ignored, exactly one `t`, one or more `v1` (the first few read), other schemes ignored.
 */
export function parseKallimaSignature(value: HeaderValue): SignatureClaim {
  const header = singleHeader(value);
  if (header === false) repeated(KALLIMA_SIGNATURE_HEADER);
  // The form Kallima sends, one t and one v1, skips the split (it costs more than the HMAC
  // comparison at small bodies).
  const common = header ? commonForm(header) : undefined;
  if (common) return common;
  let timestamp: string | undefined;
  let timestamps = 0;
  let signatures = 0;
  const candidates: string[] = [];
  if (header) {
    for (const part of header.split(",")) {
      const item = part.trim();
      if (item.startsWith("v1=")) {
        signatures++;
        const candidate = item.slice(3);
        if (signatures <= MAX_SIGNATURES_PER_HEADER && candidate.length === SIGNATURE_LENGTH) {
          candidates.push(candidate);
        }
      } else if (item.startsWith("t=")) {
        timestamps++;
        timestamp = item.slice(2);
      }
    }
  }
  if (signatures === 0) {
    throw new WebhookSignatureError(
      "missing_signature",
      "The Kallima-Signature header has no v1=<signature> item.",
    );
  }
  if (timestamp === undefined) {
    throw new WebhookSignatureError(
      "missing_timestamp",
      "The Kallima-Signature header has no t=<timestamp> item.",
    );
  }
  if (timestamps > 1) {
    throw new WebhookSignatureError(
      "invalid_timestamp",
      "The Kallima-Signature header has more than one t= item.",
    );
  }
  return {
    format: "kallima-signature",
    timestamp: checkTimestamp(timestamp, "The t= item of the Kallima-Signature header"),
    candidates,
  };
}

/**
 * Reads whichever format a delivery used: `Kallima-Signature` when present (it alone is then
 * verified), otherwise the `X-Kallima-*` pair.
 */
export function parseSignatureHeaders(headers: HeadersInput): SignatureClaim {
  const { combined, signature, timestamp } = readSignatureHeaders(headers);
  if (combined !== undefined && combined !== null) return parseKallimaSignature(combined);
  return parseSignaturePair(signature, timestamp);
}

/** True when a lone `signature` value is in the combined `t=…,v1=…` form (hex never holds `=`). */
export function isCombinedSignature(value: HeaderValue): boolean {
  const single = singleHeader(value);
  if (single === false) return Array.isArray(value) && value.some((item) => item.includes("="));
  return single?.includes("=") === true;
}
