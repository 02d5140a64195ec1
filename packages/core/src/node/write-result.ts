import type { ServerResponse } from "node:http";
import type { WebhookResult } from "../result.js";

/**
 * Writes a core result to a Node response: status, headers and JSON body.
 *
 * @example
 * ```ts
 * writeResult(res, await handler.handle({ headers: req.headers, rawBody }));
 * ```
 */
export function writeResult(res: ServerResponse, result: WebhookResult): void {
  if (res.headersSent) return;
  res.statusCode = result.status;
  for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value);
  res.end(result.body);
}
