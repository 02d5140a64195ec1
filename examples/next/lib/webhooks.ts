import {
  getFailureReason,
  type VerifiedKallimaEvent,
  type WebhookHandlerOptions,
} from "@kallima/webhooks-next";

/** The demo secret of examples/README.md: never use it for a real endpoint. */
export const DEMO_SECRET = "whsec_kallimaDemoSecret_notForProduction_01";

/** What `GET` on a webhook route lists: the events whose handler ran on that route. */
export interface RecordedEvent {
  id: string;
  type: string;
}

/** The configured secret, or the demo secret with a warning on stderr when none is set. */
function secretOrDemo(): string {
  const secret = process.env.KALLIMA_WEBHOOK_SECRET;
  if (secret) return secret;
  console.warn(
    "KALLIMA_WEBHOOK_SECRET is not set: using the demo secret. Never use it for a real endpoint.",
  );
  return DEMO_SECRET;
}

/**
 * The handler options every route of this example shares. Each route passes its own `handled`
 * list, because the Node.js, Edge and Pages routes are separate bundles (the Edge one even runs
 * in its own sandbox): a demo aid, keep real state in a database.
 */
export function webhookOptions(route: string, handled: RecordedEvent[]): WebhookHandlerOptions {
  const record = (event: VerifiedKallimaEvent) => {
    handled.push({ id: event.id, type: event.type });
  };
  return {
    secret: secretOrDemo(),
    on: {
      "job.completed": (event) => {
        console.log(`[${route}] job ${event.data.id} completed`);
        record(event);
      },
      "job.failed": (event) => {
        console.log(
          `[${route}] job ${event.data.id} failed: ${getFailureReason(event.data).message}`,
        );
        record(event);
      },
      "webhook.test": (event) => {
        console.log(`[${route}] test event for webhook ${event.data.webhook_id}`);
        record(event);
      },
    },
    // Newer event types are acknowledged (2xx) so that Kallima does not retry them forever.
    onUnhandled: (event) => console.log(`[${route}] acknowledged ${event.type} (no handler)`),
    onError: (error) => console.error(`[${route}] webhook rejected: ${error.code}`),
  };
}
