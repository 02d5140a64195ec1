import { kallimaWebhooks } from "@kallima/webhooks-next/pages";
import type { NextApiRequest, NextApiResponse } from "next";
import { type RecordedEvent, webhookOptions } from "../../lib/webhooks";

// Required: the signature covers the exact bytes, so Next.js must not parse the body first.
export const config = { api: { bodyParser: false } };

const handled: RecordedEvent[] = [];
const webhooks = kallimaWebhooks(webhookOptions("pages", handled));

export default async function handler(req: NextApiRequest, res: NextApiResponse) {
  // GET lists what ran (a demo aid); every other method goes to the webhook route, which
  // answers anything but POST with 405 and `Allow: POST`.
  if (req.method === "GET") {
    res.status(200).json({ events: handled });
    return;
  }
  await webhooks(req, res);
}
