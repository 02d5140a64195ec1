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
  const found: string[] = [];
  for (const key of Object.keys(record)) {
    if (key.length !== name.length || key.toLowerCase() !== name) continue;
    const value = record[key];
    if (typeof value === "string") found.push(value);
    else if (typeof value === "number") found.push(String(value));
    else if (Array.isArray(value)) found.push(...value.map(String));
  }
  if (found.length === 0) return undefined;
  return found.length === 1 ? found[0] : found;
}
