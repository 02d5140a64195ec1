import {
  getFailureReason,
  isEventType,
  type VerifiedKallimaEvent,
  type WebhookHandlerOptions,
} from "@kallima/webhooks-next";

/** What `GET` on a webhook route lists: the events whose handler ran on that route. */
export interface RecordedEvent {
  id: string;
  type: string;
}

/**
 * The endpoint's signing secrets (several, comma-separated, during a rotation: "whsec_new,whsec_old"),
 * read when the route module loads. `next build` loads it too, usually without the secret (Docker
 * and CI builds get it at run time): the adapter then builds anyway, and a request served without
 * a usable secret is answered 500 `invalid_secret` and logged. `pnpm start` (scripts/start.mjs)
 * passes the demo secret when none is set.
 */
export const secret: string[] = (process.env.KALLIMA_WEBHOOK_SECRET ?? "")
  .split(",")
  .map((item) => item.trim())
  .filter((item) => item !== "");

/** One line per event, the same on every route. */
export function describeEvent(event: VerifiedKallimaEvent): string {
  if (isEventType(event, "job.completed")) return `job ${event.data.id} completed`;
  if (isEventType(event, "job.failed")) {
    return `job ${event.data.id} failed: ${getFailureReason(event.data).message}`;
  }
  if (isEventType(event, "webhook.test")) return `test event for webhook ${event.data.webhook_id}`;
  return `acknowledged ${event.type} (no handler)`;
}

/**
 * The handler options every terminal route of this example shares (their handlers do not use
 * the context, so one options type fits the App Router's and the Pages Router's). Each route
 * passes its own `handled` list, because the Node.js, Edge and Pages routes are separate bundles
 * (the Edge one even runs in its own sandbox): a demo aid, keep real state in a database.
 */
export function webhookOptions(route: string, handled: RecordedEvent[]): WebhookHandlerOptions {
  const record = (event: VerifiedKallimaEvent) => {
    console.log(`[${route}] ${describeEvent(event)}`);
    handled.push({ id: event.id, type: event.type });
  };
  return {
    secret,
    on: { "job.completed": record, "job.failed": record, "webhook.test": record },
    // Newer event types are acknowledged (2xx) so that Kallima does not retry them forever.
    onUnhandled: (event) => console.log(`[${route}] ${describeEvent(event)}`),
  };
}
