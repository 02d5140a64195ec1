import { utf8ByteLength } from "#crypto";
import { PayloadTooLargeError, RawBodyUnavailableError } from "./errors.js";

/** Default `maxBodyBytes`: 1 MiB, far above any Kallima event. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/**
 * Reads a body stream to bytes, failing with {@link PayloadTooLargeError} as soon as it grows past
 * `maxBytes` rather than buffering whatever a client sends.
 */
export async function readStreamWithLimit(
  stream: ReadableStream<Uint8Array> | null,
  maxBytes: number,
): Promise<Uint8Array> {
  if (stream === null) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new PayloadTooLargeError(maxBytes);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/**
 * Throws {@link PayloadTooLargeError} when a body already in hand is over the limit, counting a
 * string as its UTF-8 bytes; returns the body.
 */
export function checkBodySize<TBody>(body: TBody, maxBytes: number): TBody {
  const size =
    typeof body === "string" || body instanceof Uint8Array
      ? utf8ByteLength(body)
      : body instanceof ArrayBuffer
        ? body.byteLength
        : 0;
  if (size > maxBytes) throw new PayloadTooLargeError(maxBytes);
  return body;
}

/** Throws {@link PayloadTooLargeError} when a declared `Content-Length` is over the limit. */
export function checkContentLength(
  contentLength: string | null | undefined,
  maxBytes: number,
): void {
  if (contentLength && /^\d+$/.test(contentLength) && Number(contentLength) > maxBytes) {
    throw new PayloadTooLargeError(maxBytes);
  }
}

/**
 * Reads the exact bytes of a Fetch `Request` body, with the size limit enforced while streaming.
 *
 * @example
 * ```ts
 * const rawBody = await readRequestBody(request, 1024 * 1024);
 * ```
 */
export function readRequestBody(
  request: Request,
  maxBytes: number = DEFAULT_MAX_BODY_BYTES,
): Promise<Uint8Array> {
  // Not async: the usual path is the one promise of arrayBuffer(), with no wrapper around it.
  try {
    const declared = request.headers.get("content-length");
    checkContentLength(declared, maxBytes);
    if (request.bodyUsed) {
      throw new RawBodyUnavailableError(
        "The request body was already read before the webhook handler ran, so its exact bytes are gone. " +
          "Let the webhook handler read the request first, or pass it request.clone().",
      );
    }
    if (declared !== null && /^\d+$/.test(declared)) {
      // The length is declared and within the limit: arrayBuffer() is about twice as fast as reading
      // the stream chunk by chunk. The check after it still holds should the body not match.
      return request.arrayBuffer().then((buffer) => {
        const bytes = new Uint8Array(buffer);
        if (bytes.byteLength > maxBytes) throw new PayloadTooLargeError(maxBytes);
        return bytes;
      });
    }
    return readStreamWithLimit(request.body, maxBytes);
  } catch (error) {
    return Promise.reject(error);
  }
}
