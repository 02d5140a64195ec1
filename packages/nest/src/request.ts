import { type IncomingHttpHeaders, IncomingMessage } from "node:http";
import {
  RawBodyUnavailableError,
  type VerifiedKallimaEvent,
  type WebhookRequest,
} from "@kallima/webhooks";
import { nodeSignatureHeaders, readRawBody } from "@kallima/webhooks/node";
import type { ExecutionContext } from "@nestjs/common";

/**
 * The request as a Nest HTTP platform hands it over: an Express `Request` (a Node
 * `IncomingMessage`) or a `FastifyRequest` (which wraps one as `raw`). Both carry `rawBody` when
 * the app was created with `rawBody: true`. Cast it to your platform's type for the rest.
 */
export interface NestWebhookRequest {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
  rawBody?: unknown;
  raw?: unknown;
  /** Set by the verifying guards once the delivery is verified. */
  kallimaEvent?: VerifiedKallimaEvent;
}

/**
 * What handlers (`@OnKallimaEvent()` methods and `on` handlers) and a `secret` function get as
 * their second argument: the platform's request, and the `ExecutionContext` of the route (set by
 * the module's route and the guards; absent when you call the handler's `handle()` yourself).
 */
export interface NestWebhookContext {
  request: NestWebhookRequest;
  executionContext?: ExecutionContext;
}

/** Names the fix for the usual cause: the Nest app was created without `rawBody: true`. */
export const RAW_BODY_HINT =
  "NestJS parsed the body without keeping its exact bytes, which the signature covers. Create the app with " +
  "`NestFactory.create(AppModule, { rawBody: true })` (Fastify: " +
  "`NestFactory.create(AppModule, new FastifyAdapter(), { rawBody: true })`).";

/** Nest keeps the raw bytes of these types itself under `rawBody: true`. */
const NEST_PARSED = new Set(["application/json", "application/x-www-form-urlencoded"]);

/** The fix when a Fastify parser other than Nest's JSON one read the body without keeping it. */
function consumedBodyHint(req: NestWebhookRequest): string {
  const type = String(req.headers["content-type"] ?? "")
    .split(";")[0]!
    .trim()
    .toLowerCase();
  if (req instanceof IncomingMessage || NEST_PARSED.has(type)) return RAW_BODY_HINT;
  return (
    `Fastify parsed this ${type || "untyped"} body without keeping its exact bytes, which the signature covers. ` +
    "On a route of your own, add `@RouteConfig(KALLIMA_FASTIFY_ROUTE_CONFIG)` so that the module's parser keeps " +
    "them; if the app registers its own parser for this type, keep the bytes in it as `request.rawBody`."
  );
}

/** The Node request under either platform: Express hands one over, Fastify wraps one as `raw`. */
export function nodeRequestOf(req: NestWebhookRequest): IncomingMessage | undefined {
  if (req instanceof IncomingMessage) return req;
  return req.raw instanceof IncomingMessage ? req.raw : undefined;
}

/**
 * The exact body bytes of a Nest request: `req.rawBody` when a parser kept it, else the unread
 * Node stream (`bodyParser: false`, a type no parser read). A body that a parser consumed without
 * keeping its bytes becomes `raw_body_unavailable`, with a message that names the fix.
 */
function readNestRawBody(req: NestWebhookRequest, maxBodyBytes: number) {
  const kept = req.rawBody;
  // The core checks the size of bytes it is given.
  if (kept instanceof Uint8Array || typeof kept === "string") return kept;
  const node = nodeRequestOf(req);
  if (!node) throw new RawBodyUnavailableError(RAW_BODY_HINT);
  return readRawBody(node, { maxBodyBytes, consumedBodyHint: consumedBodyHint(req) });
}

/** What the core's `handle()` and `verify()` take, for a Nest request. */
export function toWebhookRequest(
  req: NestWebhookRequest,
  executionContext?: ExecutionContext,
): WebhookRequest<NestWebhookContext> {
  const node = nodeRequestOf(req);
  // Plain literals, no conditional spreads: this runs on every delivery.
  const context: NestWebhookContext = { request: req };
  if (executionContext) context.executionContext = executionContext;
  return {
    // The core reads an undefined method as "not said", as it reads an absent one.
    method: req.method,
    // From Node's rawHeaders where there is a Node request: both platforms' `headers` join a
    // repeated custom header into "a, b", which would read as a list of signatures instead of
    // a repeat to refuse.
    headers: node ? nodeSignatureHeaders(node) : req.headers,
    rawBody: (maxBodyBytes) => readNestRawBody(req, maxBodyBytes),
    context,
  };
}
