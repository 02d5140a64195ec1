import { getFailureReason, kallimaWebhooks } from "@kallima/webhooks-express";
import express, { type Express } from "express";

/** An event whose handler ran, as `GET /kallima-events` lists it. */
export interface RecordedEvent {
  id: string;
  type: string;
}

/**
 * Builds the example app. The webhook route is mounted BEFORE `express.json()`, so that it reads
 * the exact bytes Kallima signed; the app's other routes still get parsed JSON.
 */
export function createApp(options: { secret: string }): Express {
  const ran: RecordedEvent[] = [];
  const record = (event: RecordedEvent) => {
    ran.push({ id: event.id, type: event.type });
  };

  const app = express();
  app.post(
    "/kallima-events",
    kallimaWebhooks({
      secret: options.secret,
      on: {
        "job.completed": async (event) => {
          console.log(`job ${event.data.id} completed`);
          record(event);
        },
        "job.failed": async (event) => {
          console.log(`job ${event.data.id} failed: ${getFailureReason(event.data).message}`);
          record(event);
        },
        "webhook.test": async (event) => {
          console.log(`test delivery for webhook ${event.data.webhook_id}`);
          record(event);
        },
      },
    }),
  );
  // A demo aid, not for production: which events had their handler run, in order.
  app.get("/kallima-events", (_req, res) => {
    res.json({ events: ran });
  });

  // Everything after this line gets parsed JSON bodies; the webhook route above is unaffected.
  app.use(express.json());
  app.get("/", (_req, res) => {
    res
      .type("text/plain")
      .send("Kallima webhooks example (Express). POST deliveries to /kallima-events.\n");
  });

  return app;
}
