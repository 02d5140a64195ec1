import { Readable } from "node:stream";
import { readStreamWithLimit } from "@kallima/webhooks/adapter";
import { type NodeWebhookRequest, readRawBody } from "@kallima/webhooks/node";
import type { FastifyRequest } from "fastify";

/** What Fastify hands a parser or a `preParsing` hook: the request stream, or a hook's replacement. */
export type FastifyPayload = Readable;

/**
 * The exact bytes of a request's body, at most `limit` of them. The untouched request stream is
 * read by the core's Node reader (Content-Length checked first, an aborted upload reported as
 * `request_aborted`); a stream an earlier `preParsing` hook put in its place (a decompressing
 * plugin, say) holds the bytes that hook wants parsed, so that one is read instead.
 */
export function readPayload(
  request: FastifyRequest,
  payload: FastifyPayload | undefined,
  limit: number,
  consumedBodyHint: string,
): Promise<Uint8Array | string> {
  if (payload === undefined || payload === request.raw) {
    return readRawBody(request.raw as NodeWebhookRequest, {
      maxBodyBytes: limit,
      consumedBodyHint,
    });
  }
  return readStreamWithLimit(Readable.toWeb(payload) as ReadableStream<Uint8Array>, limit);
}

/**
 * A stream of these bytes, for Fastify's own parser to read after a `preParsing` hook read them
 * from `read`. Fastify compares Content-Length with a replaced stream's `receivedEncodedLength`
 * (what it read off the wire), so that is carried over from the stream read.
 */
export function replayPayload(bytes: Uint8Array | string, read: FastifyPayload): FastifyPayload {
  const buffer =
    typeof bytes === "string"
      ? Buffer.from(bytes, "utf8")
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Not object mode: Fastify's parsers count and concatenate byte chunks.
  const replay = Readable.from([buffer], { objectMode: false });
  const { receivedEncodedLength } = read as { receivedEncodedLength?: unknown };
  if (typeof receivedEncodedLength === "number") {
    Object.assign(replay, { receivedEncodedLength });
  }
  return replay;
}
