import { kallimaWebhooks } from "@kallima/webhooks-next";
import { type RecordedEvent, webhookOptions } from "../../../lib/webhooks";

// The same handler on the Edge runtime: core verifies with Web Crypto here, nothing from node:.
export const runtime = "edge";
export const dynamic = "force-dynamic";

const handled: RecordedEvent[] = [];

export const POST = kallimaWebhooks(webhookOptions("app/edge", handled));

export function GET() {
  return Response.json({ events: handled });
}
