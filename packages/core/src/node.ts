import type { IncomingMessage, ServerResponse } from "node:http";
import type { WebhookHandler } from "./handler.js";
import { type NodeWebhookRequest, readRawBody } from "./node/read-body.js";
import { writeResult } from "./node/write-result.js";
import type { WebhookResult } from "./result.js";

export {
  keepRawBody,
  type NodeWebhookRequest,
  type ReadRawBodyOptions,
  readRawBody,
} from "./node/read-body.js";
export { writeResult } from "./node/write-result.js";

/**
 * Handles a Node request end to end: reads the raw body, verifies, dispatches and writes the
 * answer. The building block of the Node framework adapters.
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
  options: { consumedBodyHint?: string } = {},
): Promise<WebhookResult> {
  const result = await handler.handle({
    headers: req.headers,
    rawBody: readRawBody(req as NodeWebhookRequest, {
      maxBodyBytes: handler.maxBodyBytes,
      ...(options.consumedBodyHint ? { consumedBodyHint: options.consumedBodyHint } : {}),
    }),
  });
  writeResult(res, result);
  return result;
}
