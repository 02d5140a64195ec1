import {
  resolveWebhookHandler,
  type WebhookHandler,
  type WebhookHandlerOptions,
} from "@kallima/webhooks";
import { handleNodeRequest } from "@kallima/webhooks/node";
import type { NextApiRequest, NextApiResponse } from "next";

/** The line a Pages Router webhook route needs, quoted in the 500 answer when it is missing. */
export const PAGES_BODY_PARSER_CONFIG = "export const config = { api: { bodyParser: false } };";

const CONSUMED_BODY_HINT =
  "Next.js parsed it because the API route keeps the default body parser: add " +
  `\`${PAGES_BODY_PARSER_CONFIG}\` to the route's file under pages/api/ so that the webhook ` +
  "handler reads the body itself.";

/** A Pages Router API route: the default export of a file under `pages/api/`. */
export type KallimaPagesHandler = (req: NextApiRequest, res: NextApiResponse) => Promise<void>;

/**
 * Makes a Pages Router API route that verifies, deduplicates and dispatches Kallima webhooks.
 * The route must turn off Next.js's body parser, because the signature covers the exact bytes:
 * without it the handler answers 500 `raw_body_unavailable`, naming the line to add. A parsed
 * `req.body` is never re-serialized, since that would not reproduce the signed bytes.
 * Requests other than `POST` get 405. Its promise never rejects: an upload cut short is answered
 * `400 request_aborted` (and told to `onError`), and a repeated signature header is refused.
 *
 * @example
 * ```ts
 * // pages/api/kallima-events.ts
 * import { kallimaPagesWebhooks } from "@kallima/webhooks-next/pages";
 *
 * export const config = { api: { bodyParser: false } };
 *
 * export default kallimaPagesWebhooks({
 *   secret: process.env.KALLIMA_WEBHOOK_SECRET!,
 *   on: { "job.completed": (event) => console.log(event.data.id) },
 * });
 * ```
 */
export function kallimaPagesWebhooks(
  options: WebhookHandlerOptions | WebhookHandler,
): KallimaPagesHandler {
  const handler = resolveWebhookHandler(options);
  return async (req, res) => {
    // The core's Node path: 405 to other methods, signature headers from rawHeaders (so that a
    // repeated one is refused), the body read with the limit, the connection closed after a 413.
    await handleNodeRequest(handler, req, res, { consumedBodyHint: CONSUMED_BODY_HINT });
    if (res.headersSent && !res.writableEnded) {
      // The route's own code started the answer before the webhook handler could: its status
      // can no longer be set. A cut connection makes Kallima retry; a hanging request would not.
      res.destroy();
    }
  };
}
