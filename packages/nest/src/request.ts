import { type IncomingHttpHeaders, IncomingMessage } from "node:http";
import {
  RawBodyUnavailableError,
  type VerifiedKallimaEvent,
  type WebhookRequest,
} from "@kallima/webhooks";
import { nodeSignatureHeaders, readRawBody } from "@kallima/webhooks/node";

/**
 * The request as a Nest HTTP platform hands it over: an Express request (a Node
 * `IncomingMessage`) or a Fastify request (which wraps one as `raw`). Both carry `rawBody` when
 * the app was created with `rawBody: true`.
 */
export interface NestWebhookRequest {
  headers: IncomingHttpHeaders;
  rawBody?: unknown;
  raw?: unknown;
  /** Set by `KallimaWebhookGuard` once the delivery is verified. */
  kallimaEvent?: VerifiedKallimaEvent;
}

/** Names the fix for the usual cause: the Nest app was created without `rawBody: true`. */
export const RAW_BODY_HINT =
  "NestJS parsed the body without keeping its exact bytes, which the signature covers. Create the app with " +
  "`NestFactory.create(AppModule, { rawBody: true })` (Fastify: " +
  "`NestFactory.create(AppModule, new FastifyAdapter(), { rawBody: true })`).";

/** The Node request under either platform: Express hands one over, Fastify wraps one as `raw`. */
export function nodeRequestOf(req: NestWebhookRequest): IncomingMessage | undefined {
  if (req instanceof IncomingMessage) return req;
  return req.raw instanceof IncomingMessage ? req.raw : undefined;
}

/**
 * The exact body bytes of a Nest request: `req.rawBody` when Nest kept it, else the unread Node
 * stream (an app created with `bodyParser: false`). A body that a parser consumed without keeping
 * its bytes becomes `raw_body_unavailable`, with a message that names the fix.
 */
export async function readNestRawBody(
  req: NestWebhookRequest,
  maxBodyBytes: number,
): Promise<Uint8Array | string> {
  const kept = req.rawBody;
  // The core checks the size of bytes it is given.
  if (kept instanceof Uint8Array || typeof kept === "string") return kept;
  const node = nodeRequestOf(req);
  if (!node) throw new RawBodyUnavailableError(RAW_BODY_HINT);
  return readRawBody(node, { maxBodyBytes, consumedBodyHint: RAW_BODY_HINT });
}

/** What the core's `handle()` and `verify()` take, for a Nest request. */
export function toWebhookRequest(req: NestWebhookRequest, maxBodyBytes: number): WebhookRequest {
  const node = nodeRequestOf(req);
  return {
    // From Node's rawHeaders where there is a Node request: both platforms' `headers` join a
    // repeated custom header into "a, b", which would read as a list of signatures instead of
    // a repeat to refuse.
    headers: node ? nodeSignatureHeaders(node) : req.headers,
    rawBody: readNestRawBody(req, maxBodyBytes),
  };
}
