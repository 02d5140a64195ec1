import type { IncomingMessage } from "node:http";
import { checkBodySize, checkContentLength, DEFAULT_MAX_BODY_BYTES } from "../body.js";
import { PayloadTooLargeError, RawBodyUnavailableError, RequestAbortedError } from "../errors.js";

/** A Node request that a framework may have decorated with the body it read. */
export type NodeWebhookRequest = IncomingMessage & {
  /** The exact bytes, kept by NestJS (`rawBody: true`) or by {@link keepRawBody}. */
  rawBody?: unknown;
  /** What a body parser produced, if one ran. */
  body?: unknown;
};

/** Options of {@link readRawBody}. */
export interface ReadRawBodyOptions {
  /** Largest body accepted, in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * What to tell the user when a body parser consumed the body without keeping its bytes:
   * adapters name the fix for their framework.
   */
  consumedBodyHint?: string;
}

const DEFAULT_CONSUMED_HINT =
  "Mount the webhook route before any body parser, or keep the raw bytes as req.rawBody " +
  '(for body-parser/express.json: `express.json({ verify: keepRawBody })` with keepRawBody from "@kallima/webhooks/node").';

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

function bodyWasConsumed(req: NodeWebhookRequest): boolean {
  const flags = req as { readableDidRead?: boolean; _body?: boolean };
  return req.readableEnded || flags.readableDidRead === true || flags._body === true;
}

/**
 * Reads the exact bytes of a Node request body: `req.rawBody` when a framework kept it, a
 * `Buffer` body from a raw parser, or the untouched stream (size limit enforced while streaming,
 * `Content-Length` checked first). Rejects with `RawBodyUnavailableError` when a parser consumed
 * the body and kept no bytes, since re-serializing a parsed body would not match its signature.
 *
 * @example
 * ```ts
 * const rawBody = await readRawBody(req, { maxBodyBytes: 1024 * 1024 });
 * ```
 */
export async function readRawBody(
  req: NodeWebhookRequest,
  options: ReadRawBodyOptions = {},
): Promise<Uint8Array | string> {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (isBytes(req.rawBody) || typeof req.rawBody === "string")
    return checkBodySize(req.rawBody, maxBodyBytes);
  if (isBytes(req.body)) return checkBodySize(req.body, maxBodyBytes);
  if (bodyWasConsumed(req)) {
    throw new RawBodyUnavailableError(
      `The request body was read by something else before the webhook handler, and its exact bytes were not kept. ${
        options.consumedBodyHint ?? DEFAULT_CONSUMED_HINT
      }`,
    );
  }
  const contentLength = req.headers["content-length"];
  checkContentLength(contentLength, maxBodyBytes);
  return new Promise<Uint8Array>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("aborted", onAborted);
      req.off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.byteLength;
      if (total > maxBodyBytes) {
        cleanup();
        // Stop reading instead of draining whatever the client still sends: the 413 goes out
        // with `Connection: close` and the connection is closed after it (see writeResult).
        req.pause();
        reject(new PayloadTooLargeError(maxBodyBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(
        new RequestAbortedError(
          "The request body could not be read to its end (the connection failed or timed out).",
          { cause: error },
        ),
      );
    };
    const onAborted = () => {
      cleanup();
      reject(new RequestAbortedError("The client aborted the request while sending its body."));
    };
    // Node ≥ 16 may emit only "close" (without "aborted") when the socket goes before the end.
    const onClose = () => {
      if (!req.complete) onAborted();
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("aborted", onAborted);
    req.on("close", onClose);
  });
}

/**
 * A body-parser `verify` callback that keeps the exact bytes as `req.rawBody`, so that the
 * webhook route works behind a global JSON parser.
 *
 * @example
 * ```ts
 * app.use(express.json({ verify: keepRawBody }));
 * ```
 */
export function keepRawBody(req: IncomingMessage, _res: unknown, buffer: Buffer): void {
  (req as NodeWebhookRequest).rawBody = buffer;
}
