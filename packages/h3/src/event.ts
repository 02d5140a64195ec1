import type { IncomingMessage, ServerResponse } from "node:http";
import {
  RawBodyUnavailableError,
  type WebhookRequest,
  type WebhookResult,
} from "@kallima/webhooks";
import { checkBodySize, checkContentLength, readRequestBody } from "@kallima/webhooks/adapter";
import {
  nodeSignatureHeaders,
  prepareResultResponse,
  readRawBody as readNodeBody,
  writeResult,
} from "@kallima/webhooks/node";
import { type H3Event, readRawBody } from "h3";

/** Where h3 1.x keeps the bytes its `readRawBody` read, so that `readBody` can parse them after. */
const H3_RAW_BODY = Symbol.for("h3RawBody");

type NodeRequest = IncomingMessage & {
  [H3_RAW_BODY]?: unknown;
  rawBody?: unknown;
  body?: unknown;
};

/** An h3 1.x event: Node's request and response, always (a mock of them off Node). */
interface H3v1Event {
  method: string;
  node: { req: NodeRequest; res: ServerResponse };
  _requestBody?: unknown;
  web?: { request?: { body?: unknown } };
}

/** An h3 2 event: a Fetch `Request` (Node's own request beside it when on Node). */
interface H3v2Event {
  req: Request;
  node?: { req?: NodeRequest; res?: ServerResponse };
  res: { status?: number; headers: Headers };
}

const CONSUMED_BODY_HINT =
  "Another handler or middleware read the request body before the webhook handler and its exact bytes were not kept " +
  "(a body parser, or readBody()/readFormData() in a middleware). Register the webhook route before it, or read the " +
  "body there with readRawBody(event, false), which keeps the bytes.";

/** The bytes as a Buffer (what h3 and srvx expect), without copying them. */
function asBuffer(bytes: Uint8Array | string): Buffer {
  if (typeof bytes === "string") return Buffer.from(bytes, "utf8");
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** h3 2 hands handlers a Fetch `Request` as `event.req`; in 1.x that is Node's request. */
export function isH3v2(event: H3Event): boolean {
  const req = (event as unknown as { req?: { arrayBuffer?: unknown } }).req;
  return typeof req?.arrayBuffer === "function";
}

/**
 * What a framework decoded the body into (body-parser's JSON, a form): the bytes are gone, and
 * re-serializing it would not give them back.
 */
function isParsedBody(value: object): boolean {
  return (
    value.constructor === Object ||
    Array.isArray(value) ||
    value instanceof URLSearchParams ||
    (typeof FormData !== "undefined" && value instanceof FormData)
  );
}

/**
 * The exact body of an h3 1.x request. When the body is already at hand where h3 looks for it
 * (bytes an earlier `readRawBody` or `readBody` kept, a web request's body, `req.rawBody`, or the
 * `req.body` that Nitro's serverless and edge presets set on the request they build), h3's own
 * `readRawBody(event, false)` gives those bytes. Otherwise Node's stream is read with the limit
 * enforced as it streams, and the bytes are left where h3's readers find them, so that
 * `readBody(event)` still works in the handlers.
 */
async function readV1Body(event: H3v1Event, limit: number): Promise<Uint8Array | string> {
  const req = event.node.req;
  // The sources h3's readRawBody reads, in its order.
  const kept =
    event._requestBody || event.web?.request?.body || req[H3_RAW_BODY] || req.rawBody || req.body;
  if (kept) {
    if (typeof kept === "object" && isParsedBody(kept)) {
      throw new RawBodyUnavailableError(CONSUMED_BODY_HINT);
    }
    checkContentLength(req.headers["content-length"], limit);
    const bytes = await readRawBody(event as unknown as H3Event, false);
    return checkBodySize((bytes ?? new Uint8Array(0)) as Uint8Array, limit);
  }
  // A request Nitro built without a body (unenv's, whose stream never ends): nothing to read.
  if (req.body === null) return new Uint8Array(0);
  const bytes = await readNodeBody(req, {
    maxBodyBytes: limit,
    consumedBodyHint: CONSUMED_BODY_HINT,
  });
  req[H3_RAW_BODY] = Promise.resolve(asBuffer(bytes));
  return bytes;
}

/**
 * The exact body of an h3 2 request. On Node, Node's stream is read with the limit enforced as
 * it streams and kept as `rawBody`, where the Fetch request h3 hands out (srvx's) reads its body
 * from, so that `event.req.json()` and `readBody(event)` still work in the handlers. Elsewhere
 * the Fetch body is read, under the same limit.
 */
async function readV2Body(event: H3v2Event, limit: number): Promise<Uint8Array | string> {
  const req = event.node?.req;
  if (!req) return readRequestBody(event.req, limit);
  if (event.req.bodyUsed) throw new RawBodyUnavailableError(CONSUMED_BODY_HINT);
  const bytes = await readNodeBody(req, {
    maxBodyBytes: limit,
    consumedBodyHint: CONSUMED_BODY_HINT,
  });
  req.rawBody = asBuffer(bytes);
  return bytes;
}

/** The core's request for an h3 event (1.x or 2); the event reaches the handlers. */
export function webhookRequest(event: H3Event): WebhookRequest<H3Event> {
  if (isH3v2(event)) {
    const v2 = event as unknown as H3v2Event;
    return {
      method: v2.req.method,
      // On Node, Node's raw header lines tell a repeated signature header from one value.
      headers: v2.node?.req ? nodeSignatureHeaders(v2.node.req) : v2.req.headers,
      rawBody: (limit) => readV2Body(v2, limit),
      context: event,
    };
  }
  const v1 = event as unknown as H3v1Event;
  const req = v1.node.req;
  return {
    method: v1.method,
    // Node's raw header lines tell a repeated signature header from one value; a request built
    // in memory without them (by an older unenv, say) has its headers only.
    headers: req.rawHeaders?.length ? nodeSignatureHeaders(req) : req.headers,
    rawBody: (limit) => readV1Body(v1, limit),
    context: event,
  };
}

/**
 * Answers with the core's result the way an h3 handler does: status and headers set on the
 * response (keeping headers set before), the body returned for h3 to send, so that h3's own
 * response path and hooks (`onBeforeResponse`, `onAfterResponse`) see it. When the request body
 * was not read to its end (a 413), the answer carries `Connection: close`. h3 1.x: on Node's
 * response, as the Node adapters ready it (nothing is returned when the answer can no longer be
 * sent); h3 2: on `event.res`.
 */
export function respond(event: H3Event, result: WebhookResult): string | undefined {
  if (!isH3v2(event)) {
    const res = (event as unknown as H3v1Event).node.res;
    if (!prepareResultResponse(res)) return undefined;
    res.statusCode = result.status;
    for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value);
    return result.body;
  }
  const v2 = event as unknown as H3v2Event;
  v2.res.status = result.status;
  for (const [name, value] of Object.entries(result.headers)) v2.res.headers.set(name, value);
  const req = v2.node?.req;
  if (req && !req.complete) v2.res.headers.set("connection", "close");
  return result.body;
}

/**
 * Answers a refused delivery from verify-only middleware. h3 1.x ignores what an `onRequest`
 * hook returns and stops only once the response is sent, so there the answer is written to
 * Node's response at once (and nothing is returned); elsewhere as {@link respond}.
 */
export function refuse(event: H3Event, result: WebhookResult): string | undefined {
  if (isH3v2(event)) return respond(event, result);
  writeResult((event as unknown as H3v1Event).node.res, result);
  return undefined;
}
