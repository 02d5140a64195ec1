/** A header value as frameworks hand it over: Node gives an array for a repeated header. */
export type HeaderValue = string | readonly string[] | null | undefined;

/**
 * Request headers in any of the shapes frameworks use: a Fetch `Headers`, Node's
 * `IncomingHttpHeaders`, or a plain record whose keys may have any case.
 */
export type HeadersInput =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | number | undefined | null>>;

/** Header names of the protocol, lowercase as HTTP/2 and Node carry them. */
export const SIGNATURE_HEADER = "x-kallima-signature";
export const TIMESTAMP_HEADER = "x-kallima-timestamp";
/** The combined header of Kallima's API reference: `Kallima-Signature: t=<unix>,v1=<hex>`. */
export const KALLIMA_SIGNATURE_HEADER = "kallima-signature";

/**
 * Reads one header case-insensitively. Two keys that differ only in case count as a repeated
 * header and come back as an array, which the verifier treats as malformed.
 */
export function readHeader(headers: HeadersInput, name: string): HeaderValue {
  if (typeof headers.get === "function") {
    return (headers as { get(name: string): string | null }).get(name);
  }
  const record = headers as Readonly<Record<string, unknown>>;
  let found: HeaderValue;
  for (const key of Object.keys(record)) {
    if (key.length !== name.length || key.toLowerCase() !== name) continue;
    found = addValue(found, record[key]);
  }
  return found;
}

/** The signature headers of a request, each as {@link readHeader} would read it. */
export interface SignatureHeaderValues {
  /** `Kallima-Signature`. */
  combined: HeaderValue;
  /** `X-Kallima-Signature`. */
  signature: HeaderValue;
  /** `X-Kallima-Timestamp`. */
  timestamp: HeaderValue;
}

/**
 * Reads the three signature headers at once: a record's keys are scanned once rather than once
 * per header (Node hands over a record, and a small body's verification is a few µs).
 */
export function readSignatureHeaders(headers: HeadersInput): SignatureHeaderValues {
  if (typeof headers.get === "function") {
    const fetchHeaders = headers as { get(name: string): string | null };
    const combined = fetchHeaders.get(KALLIMA_SIGNATURE_HEADER);
    // The combined header wins when present, so the pair is not needed then.
    if (combined !== null) return { combined, signature: undefined, timestamp: undefined };
    return {
      combined,
      signature: fetchHeaders.get(SIGNATURE_HEADER),
      timestamp: fetchHeaders.get(TIMESTAMP_HEADER),
    };
  }
  const record = headers as Readonly<Record<string, unknown>>;
  let combined: HeaderValue;
  let signature: HeaderValue;
  let timestamp: HeaderValue;
  for (const key in record) {
    // Only own keys count, as with Object.keys; lengths rule out nearly every other header.
    const length = key.length;
    if (length === KALLIMA_SIGNATURE_HEADER.length) {
      if (isHeader(key, KALLIMA_SIGNATURE_HEADER) && Object.hasOwn(record, key)) {
        combined = addValue(combined, record[key]);
      }
    } else if (length === SIGNATURE_HEADER.length) {
      if (isHeader(key, SIGNATURE_HEADER)) {
        if (Object.hasOwn(record, key)) signature = addValue(signature, record[key]);
      } else if (isHeader(key, TIMESTAMP_HEADER) && Object.hasOwn(record, key)) {
        timestamp = addValue(timestamp, record[key]);
      }
    }
  }
  return { combined, signature, timestamp };
}

/** `key` is `name` (lowercase) in any case; the lowercase spelling Node gives costs no copy. */
function isHeader(key: string, name: string): boolean {
  return key === name || key.toLowerCase() === name;
}

/** Adds a record's value to what was found under other spellings of the same header. */
function addValue(found: HeaderValue, value: unknown): HeaderValue {
  let values: readonly string[];
  if (typeof value === "string") {
    if (found === undefined) return value;
    values = [value];
  } else if (typeof value === "number") {
    if (found === undefined) return String(value);
    values = [String(value)];
  } else if (Array.isArray(value)) {
    if (value.length === 0) return found;
    // Node's raw-header lists (nodeSignatureHeaders) hold one string per header as a rule.
    if (found === undefined && value.length === 1 && typeof value[0] === "string") return value[0];
    values = value.map(String);
    if (found === undefined) return values.length === 1 ? values[0] : values;
  } else {
    return found;
  }
  const before = typeof found === "string" ? [found] : (found as readonly string[]);
  return [...before, ...values];
}
