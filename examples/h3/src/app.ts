import { getFailureReason, kallimaWebhooks } from "@kallima/webhooks-h3";
import { type App, createApp, createRouter, defineEventHandler } from "h3";

/** An event whose handler ran, as `GET /kallima-events` lists it. */
export interface RecordedEvent {
  id: string;
  type: string;
}

/**
 * Builds the example app: the webhook route as a Nuxt or Nitro server route would have it
 * (`server/routes/kallima-events.ts` exporting `kallimaWebhooks(…)`), in a plain h3 app.
 */
export function createExampleApp(options: { secret: string | readonly string[] }): App {
  const ran: RecordedEvent[] = [];
  const record = (event: RecordedEvent) => {
    ran.push({ id: event.id, type: event.type });
  };
  const webhooks = kallimaWebhooks({
    secret: options.secret,
    on: {
      // The second argument is the delivery's H3Event.
      "job.completed": (event, h3Event) => {
        console.log(`job ${event.data.id} completed (delivered to ${h3Event.path})`);
        record(event);
      },
      "job.failed": (event) => {
        console.log(`job ${event.data.id} failed: ${getFailureReason(event.data).message}`);
        record(event);
      },
      "webhook.test": (event) => {
        console.log(`test delivery for webhook ${event.data.webhook_id}`);
        record(event);
      },
    },
  });

  const router = createRouter()
    // A demo aid, not for production: which events had their handler run, in order. Registered
    // first so that this GET answers; every other method reaches the webhook handler, which
    // answers anything but POST with 405.
    .get(
      "/kallima-events",
      defineEventHandler(() => ({ events: ran })),
    )
    .use("/kallima-events", webhooks)
    .get(
      "/",
      defineEventHandler(
        () => "Kallima webhooks example (h3). POST deliveries to /kallima-events.\n",
      ),
    );
  return createApp().use(router);
}
