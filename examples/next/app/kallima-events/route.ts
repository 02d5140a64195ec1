import { kallimaWebhooks } from "@kallima/webhooks-next";
import { type RecordedEvent, webhookOptions } from "../../lib/webhooks";

// App Router route handler on the Node.js runtime (the default).
export const dynamic = "force-dynamic";

const handled: RecordedEvent[] = [];

export const POST = kallimaWebhooks(webhookOptions("app/node", handled));

export function GET() {
  return Response.json({ events: handled });
}
