import { verifyKallimaWebhook } from "@kallima/webhooks-next";
import { describeEvent, type RecordedEvent, secret } from "../../../lib/webhooks";

// Verify only: the adapter checks the delivery and answers a bad one itself; this route handles
// the event and writes its own answer.
export const dynamic = "force-dynamic";

const options = { secret };
const handled: RecordedEvent[] = [];
const RECORDED = new Set(["job.completed", "job.failed", "webhook.test"]);

export async function POST(request: Request) {
  const verified = await verifyKallimaWebhook(request, options);
  if (!verified.ok) return verified.response;
  const { event } = verified;
  // Kallima delivers at least once and verify-only does not deduplicate: dedupe by event id
  // (in a database in a real app, in the same transaction as the work).
  if (handled.some((seen) => seen.id === event.id)) {
    return Response.json({ received: true, outcome: "duplicate" });
  }
  console.log(`[app/verify-only] ${describeEvent(event)}`);
  if (!RECORDED.has(event.type)) return Response.json({ received: true, outcome: "unhandled" });
  handled.push({ id: event.id, type: event.type });
  return Response.json({ received: true, outcome: "handled" });
}

export function GET() {
  return Response.json({ events: handled });
}
