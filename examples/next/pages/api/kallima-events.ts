import { kallimaPagesWebhooks } from "@kallima/webhooks-next/pages";
import type { NextApiRequest, NextApiResponse } from "next";
import { type RecordedEvent, webhookOptions } from "../../lib/webhooks";

// Required: the signature covers the exact bytes, so Next.js must not parse the body first.
export const config = { api: { bodyParser: false } };

const handled: RecordedEvent[] = [];
const webhooks = kallimaPagesWebhooks(webhookOptions("pages", handled));

export default async function handler(req: NextApiRequest, res: NextApiResponse) {
  if (req.method === "GET") {
    res.status(200).json({ events: handled });
    return;
  }
  await webhooks(req, res);
}
