import {
  type VerifiedKallimaEvent,
  WebhookConfigError,
  type WebhookHandler,
  type WebhookHandlerOptions,
  type WebhookResult,
} from "@kallima/webhooks";
import {
  createVerifyOnlyHandler,
  isWebhookHandler,
  resolveWebhookHandler,
  type VerifyOnlyOptions,
  type WebhookRequest,
} from "@kallima/webhooks/adapter";
import { nodeSignatureHeaders, prepareResultResponse } from "@kallima/webhooks/node";
import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  RouteHandlerMethod,
} from "fastify";
import { type FastifyPayload, readPayload, replayPayload } from "./body.js";

// One package for users: everything of the core, plus this adapter's own names below.
export * from "@kallima/webhooks";

declare module "fastify" {
  interface FastifyRequest {
    /** The verified Kallima event, set by the `verifyKallimaWebhook()` hook before your route runs. */
    kallimaEvent?: VerifiedKallimaEvent;
  }
}

/** What event handlers get as their second argument, and a `secret` function as its argument. */
export interface FastifyWebhookContext {
  request: FastifyRequest;
  reply: FastifyReply;
}

/**
 * A handler made with `createWebhookHandler`: typed with the Fastify context
 * (`createWebhookHandler<FastifyWebhookContext>(…)`), or with none.
 */
export type FastifyWebhookHandler = WebhookHandler<FastifyWebhookContext> | WebhookHandler;

/** Where and how the {@link kallimaWebhooks} plugin mounts its route. */
export interface KallimaWebhooksRouteOptions {
  /** The route's path, under the `prefix` the plugin is registered with (if any). */
  path: string;
  /**
   * `"405"` (default): the route takes every method and answers all but `POST` with
   * `405 Method Not Allowed` and `Allow: POST`. `"leave"`: the route is registered for `POST`
   * only, so that your own routes on the same path (a `GET` one, say) answer the other methods.
   */
  otherMethods?: "405" | "leave";
}

/**
 * Options of the {@link kallimaWebhooks} plugin: its route, plus the core's handler options typed
 * with the Fastify context, or a `handler` made with `createWebhookHandler`.
 */
export type KallimaWebhooksPluginOptions = KallimaWebhooksRouteOptions &
  (
    | (WebhookHandlerOptions<FastifyWebhookContext> & { handler?: never })
    | { handler: FastifyWebhookHandler }
  );

// Names the Fastify fix, since the core's generic hint cannot know what read the body.
const CONSUMED_BODY_HINT =
  "Something read the request stream before the webhook route (a preParsing or onRequest hook): " +
  "leave the stream of the route registered by kallimaWebhooks (or guarded by verifyKallimaWebhook) unread.";

/** Payloads handed over by the route's parser, read when the core asks for the bytes. */
const payloads = new WeakMap<FastifyRequest, FastifyPayload>();

function toWebhookRequest(
  request: FastifyRequest,
  reply: FastifyReply,
  payload: FastifyPayload | undefined,
): WebhookRequest<FastifyWebhookContext> {
  return {
    method: request.method,
    // From rawHeaders: Node joins a repeated header into "a, b", which must be refused instead.
    headers: nodeSignatureHeaders(request.raw),
    rawBody: (limit) => readPayload(request, payload, limit, CONSUMED_BODY_HINT),
    context: { request, reply },
  };
}

/** Sends the core's answer through `reply`, so that Fastify's hooks and logging see it. */
function sendResult(reply: FastifyReply, result: WebhookResult): FastifyReply {
  // False once the answer cannot be sent (the headers went out: the connection was cut).
  if (!prepareResultResponse(reply.raw)) return reply.hijack();
  return reply.code(result.status).headers(result.headers).send(result.body);
}

/** Hands the stream over unread, for every content type (none included): the core reads it. */
function keepPayload(
  request: FastifyRequest,
  payload: FastifyPayload,
  done: (error: Error | null, body?: unknown) => void,
): void {
  payloads.set(request, payload);
  done(null, undefined);
}

function pluginSettings(options: KallimaWebhooksPluginOptions): {
  path: string;
  otherMethods: "405" | "leave";
  core: WebhookHandlerOptions<FastifyWebhookContext> | FastifyWebhookHandler;
} {
  if (typeof options !== "object" || options === null) {
    throw new WebhookConfigError(
      "invalid_option",
      "Register kallimaWebhooks with its options: app.register(kallimaWebhooks, { path, secret, on }).",
    );
  }
  // Fastify passes its own register options (prefix, logLevel…) along with ours.
  const {
    path,
    otherMethods = "405",
    handler,
    prefix: _prefix,
    logLevel: _logLevel,
    logSerializers: _logSerializers,
    ...core
  } = options as KallimaWebhooksPluginOptions & Record<string, unknown>;
  if (typeof path !== "string" || path === "") {
    throw new WebhookConfigError(
      "invalid_option",
      `kallimaWebhooks needs a path for its route, such as { path: "/kallima-events" }, got ${JSON.stringify(path)}.`,
    );
  }
  if (otherMethods !== "405" && otherMethods !== "leave") {
    throw new WebhookConfigError(
      "invalid_option",
      `otherMethods must be "405" or "leave", got ${JSON.stringify(otherMethods)}.`,
    );
  }
  if (handler !== undefined && !isWebhookHandler(handler)) {
    throw new WebhookConfigError(
      "invalid_option",
      "handler must be a handler made with createWebhookHandler().",
    );
  }
  return {
    path,
    otherMethods,
    core: handler ?? (core as WebhookHandlerOptions<FastifyWebhookContext>),
  };
}

/**
 * A Fastify plugin that receives Kallima webhooks on one route: it reads the exact body bytes,
 * verifies the signature and freshness, drops repeats, runs the handler for the event's type with
 * `{ request, reply }` as its second argument, and answers with the status Kallima's retries rely
 * on. Its route takes every content type (none included) as raw bytes, through a parser of the
 * plugin's own encapsulated context: the rest of the app parses JSON as before. The route's
 * `bodyLimit` is the handler's `maxBodyBytes`. Other methods get `405` (or go to your own routes
 * with `otherMethods: "leave"`). Errors that are not this library's own (a custom handler
 * object's) go to Fastify's error handler.
 *
 * @example
 * ```ts
 * await app.register(kallimaWebhooks, {
 *   path: "/kallima-events",
 *   secret: process.env.KALLIMA_WEBHOOK_SECRET!,
 *   on: { "job.completed": async (event, { request }) => saveJob(event.data.id, request.ip) },
 * });
 * ```
 */
export const kallimaWebhooks: FastifyPluginAsync<KallimaWebhooksPluginOptions> = async (
  instance: FastifyInstance,
  options: KallimaWebhooksPluginOptions,
) => {
  const { path, otherMethods, core } = pluginSettings(options);
  const handler = resolveWebhookHandler(
    core as WebhookHandlerOptions<FastifyWebhookContext> | WebhookHandler<FastifyWebhookContext>,
  );
  // This plugin's context only (it is not wrapped with fastify-plugin): the app keeps its parsers.
  instance.removeAllContentTypeParsers();
  instance.addContentTypeParser("*", keepPayload);
  const receive: RouteHandlerMethod = async (request, reply) => {
    const payload = payloads.get(request);
    payloads.delete(request);
    // handle() turns every failure of its own into a result: a rejection is a custom handler's.
    return sendResult(reply, await handler.handle(toWebhookRequest(request, reply, payload)));
  };
  const route = { bodyLimit: handler.maxBodyBytes };
  if (otherMethods === "405") instance.all(path, route, receive);
  else instance.post(path, route, receive);
};

/** Options of {@link verifyKallimaWebhook}: the core's verify-only options, with the Fastify context. */
export type KallimaFastifyVerifyOptions = VerifyOnlyOptions<FastifyWebhookContext>;

/** The `preParsing` hook {@link verifyKallimaWebhook} returns. */
export type VerifyKallimaWebhookHook = (
  request: FastifyRequest,
  reply: FastifyReply,
  payload: FastifyPayload,
) => Promise<FastifyPayload | undefined>;

/**
 * A verify-only `preParsing` hook for a route of your own: it reads the exact body bytes before
 * Fastify parses them, and on an authentic, fresh delivery sets `request.kallimaEvent` and hands
 * the same bytes on to the app's parsers, so that your route also gets `request.body` as usual.
 * Otherwise it answers the error itself and your route does not run. Being a route hook, it
 * changes nothing for the app's other routes. It neither deduplicates nor runs handlers (passing
 * `on`, `onUnhandled`, `idempotency` or `deadlineMs` throws): your route must tolerate a
 * repeated `request.kallimaEvent.id`. It reads at most `maxBodyBytes` (1 MiB by default).
 *
 * @example
 * ```ts
 * app.post("/kallima-events", { preParsing: verifyKallimaWebhook({ secret }) }, async (request) => {
 *   const event = request.kallimaEvent!;
 *   if (isEventType(event, "job.failed")) console.error(getFailureReason(event.data).message);
 *   return { received: true };
 * });
 * ```
 */
export function verifyKallimaWebhook(
  options: KallimaFastifyVerifyOptions | FastifyWebhookHandler,
): VerifyKallimaWebhookHook {
  const handler = createVerifyOnlyHandler<FastifyWebhookContext>(
    options as KallimaFastifyVerifyOptions | WebhookHandler<FastifyWebhookContext>,
    { adapterName: "verifyKallimaWebhook" },
  );
  return async (request, reply, payload) => {
    let bytes: Uint8Array | string | undefined;
    const webhookRequest = toWebhookRequest(request, reply, payload);
    const outcome = await handler.verify({
      ...webhookRequest,
      rawBody: async (limit) => {
        bytes = await readPayload(request, payload, limit, CONSUMED_BODY_HINT);
        return bytes;
      },
    });
    if (!outcome.ok) {
      sendResult(reply, outcome.result);
      return undefined;
    }
    request.kallimaEvent = outcome.event;
    return bytes === undefined ? undefined : replayPayload(bytes, payload);
  };
}
