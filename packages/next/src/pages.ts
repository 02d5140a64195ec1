import type { EventHandlers, VerifiedKallimaEvent, WebhookHandler } from "@kallima/webhooks";
import type { VerifyOnlyOptions } from "@kallima/webhooks/adapter";
import {
  handleNodeRequest,
  nodeSignatureHeaders,
  readRawBody,
  writeResult,
} from "@kallima/webhooks/node";
import type { NextApiRequest, NextApiResponse } from "next";
import { type CheckedHandlerOptions, handlerFor, verifyOnlyHandlerFor } from "./shared.js";

// The same surface as the App Router entry: the core's, plus this entry's helpers.
export * from "@kallima/webhooks";

/** The line a Pages Router webhook route needs, quoted in the 500 answer when it is missing. */
export const PAGES_BODY_PARSER_CONFIG = "export const config = { api: { bodyParser: false } };";

const CONSUMED_BODY_HINT =
  "Next.js parsed it because the API route keeps the default body parser: add " +
  `\`${PAGES_BODY_PARSER_CONFIG}\` to the route's file under pages/api/ so that the webhook ` +
  "handler reads the body itself.";

/** What Pages Router handlers, and a `secret` function, get as their second argument. */
export interface KallimaPagesContext {
  req: NextApiRequest;
  res: NextApiResponse;
}

/** A Pages Router API route: the default export of a file under `pages/api/`. */
export type KallimaPagesHandler = (req: NextApiRequest, res: NextApiResponse) => Promise<void>;

/**
 * Makes a Pages Router API route that verifies, deduplicates and dispatches Kallima webhooks.
 * The route must turn off Next.js's body parser (the signature covers the exact bytes): without
 * it the route answers 500 `raw_body_unavailable`, naming the line to add. Handlers get
 * `{ req, res }` as their second argument. Its promise never rejects.
 *
 * @example
 * ```ts
 * // pages/api/kallima-events.ts
 * import { kallimaWebhooks } from "@kallima/webhooks-next/pages";
 *
 * export const config = { api: { bodyParser: false } };
 *
 * export default kallimaWebhooks({
 *   secret: process.env.KALLIMA_WEBHOOK_SECRET!,
 *   on: { "job.completed": (event) => console.log(event.data.id) },
 * });
 * ```
 */
export function kallimaWebhooks<TOn = EventHandlers<KallimaPagesContext>>(
  options:
    | CheckedHandlerOptions<KallimaPagesContext, TOn>
    | WebhookHandler<KallimaPagesContext>
    | WebhookHandler,
): KallimaPagesHandler {
  const handler = handlerFor(options);
  return async (req, res) => {
    // The core's Node path: 405 to other methods, signature headers from rawHeaders (so that a
    // repeated one is refused), the body read with the limit, the connection closed after a 413.
    const context: KallimaPagesContext = { req, res };
    // A route whose own code started the answer first gets its connection cut (writeResult).
    await handleNodeRequest(handler, req, res, { consumedBodyHint: CONSUMED_BODY_HINT, context });
  };
}

/** @deprecated Renamed: use `kallimaWebhooks` from `@kallima/webhooks-next/pages`. */
export const kallimaPagesWebhooks = kallimaWebhooks;

/**
 * Verifies a delivery for an API route that handles the event itself, and gives the event. On
 * failure it answers the request itself (the core's status and coded body) and gives
 * `undefined`: return then. It only verifies: no handlers, no deduplication (dedupe by
 * `event.id`), and handler options such as `on` are refused. Needs `bodyParser: false` too.
 *
 * @example
 * ```ts
 * import { verifyKallimaWebhook } from "@kallima/webhooks-next/pages";
 * import type { NextApiRequest, NextApiResponse } from "next";
 *
 * export const config = { api: { bodyParser: false } };
 * const options = { secret: process.env.KALLIMA_WEBHOOK_SECRET! };
 *
 * export default async function handler(req: NextApiRequest, res: NextApiResponse) {
 *   const event = await verifyKallimaWebhook(req, res, options);
 *   if (!event) return;
 *   res.status(200).json({ received: event.id });
 * }
 * ```
 */
export async function verifyKallimaWebhook(
  req: NextApiRequest,
  res: NextApiResponse,
  options:
    | VerifyOnlyOptions<KallimaPagesContext>
    | WebhookHandler<KallimaPagesContext>
    | WebhookHandler,
): Promise<VerifiedKallimaEvent | undefined> {
  const outcome = await verifyOnlyHandlerFor<KallimaPagesContext>(options).verify({
    method: req.method ?? "",
    headers: nodeSignatureHeaders(req),
    rawBody: (limit) =>
      readRawBody(req, { maxBodyBytes: limit, consumedBodyHint: CONSUMED_BODY_HINT }),
    context: { req, res },
  });
  if (outcome.ok) return outcome.event;
  writeResult(res, outcome.result);
  return undefined;
}
