import type { IncomingMessage, ServerResponse } from "node:http";
import { KallimaWebhookError } from "./errors.js";
import type { WebhookHandler } from "./handler.js";
import { nodeSignatureHeaders } from "./node/headers.js";
import { type NodeWebhookRequest, readRawBody } from "./node/read-body.js";
import { writeResult } from "./node/write-result.js";
import { errorResult, type WebhookResult } from "./result.js";

export { nodeSignatureHeaders } from "./node/headers.js";
export {
  keepRawBody,
  type NodeWebhookRequest,
  type ReadRawBodyOptions,
  readRawBody,
} from "./node/read-body.js";
export { prepareResultResponse, writeResult } from "./node/write-result.js";

/** Options of {@link handleNodeRequest}. */
export interface HandleNodeRequestOptions {
  /** What to tell the user when a body parser consumed the body: adapters name their fix. */
  consumedBodyHint?: string;
  /** The framework's context, passed to handlers as their second argument. */
  context?: unknown;
}

/**
 * Handles a Node request end to end: answers non-`POST` with 405, reads the raw body, verifies,
 * dispatches and writes the answer. Its promise never rejects, whatever the client or the socket
 * does (a body cut off mid-upload becomes `request_aborted`), so it is safe to call without
 * `await` or `.catch()`. The building block of the Node framework adapters.
 *
 * @example
 * ```ts
 * const webhooks = createWebhookHandler({ secret, on: { "job.completed": onCompleted } });
 * http.createServer((req, res) => handleNodeRequest(webhooks, req, res)).listen(3000);
 * ```
 */
export async function handleNodeRequest(
  handler: WebhookHandler,
  req: IncomingMessage,
  res: ServerResponse,
  options: HandleNodeRequestOptions = {},
): Promise<WebhookResult> {
  let result: WebhookResult;
  try {
    result = await handler.handle(
      req.method === "POST"
        ? {
            headers: nodeSignatureHeaders(req),
            // Plain literals, no conditional spreads: this runs on every delivery. An undefined
            // hint or context reads as an absent one.
            rawBody: readRawBody(req as NodeWebhookRequest, {
              maxBodyBytes: handler.maxBodyBytes,
              consumedBodyHint: options.consumedBodyHint,
            }),
            context: options.context,
          }
        : // Answered 405 by handle() without reading the body, so that onDelivery sees it too.
          { method: req.method ?? "", headers: {}, rawBody: undefined },
    );
  } catch (error) {
    // handle() turns every failure it knows into a result; this is a last line of defence so
    // that a bug can never become an unhandled rejection that takes the process down.
    result = errorResult(
      error instanceof KallimaWebhookError
        ? error
        : new KallimaWebhookError("handler_failed", "The webhook request failed unexpectedly.", {
            cause: error,
          }),
    );
  }
  writeResult(res, result);
  return result;
}
