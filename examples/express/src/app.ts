import { getFailureReason, kallimaWebhooks, type SecretValue } from "@kallima/webhooks-express";
import express, { type Express } from "express";

/** An event whose handler ran, as `GET /kallima-events` lists it. */
export interface RecordedEvent {
  id: string;
  type: string;
}

/**
 * Builds the example app. The webhook route is mounted BEFORE `express.json()`, so that it reads
 * the exact bytes Kallima signed; the app's other routes still get parsed JSON. `secret` may list
 * several secrets during a rotation: a delivery signed with any of them verifies.
 */
export function createApp(options: { secret: SecretValue }): Express {
  const ran: RecordedEvent[] = [];
  const record = (event: RecordedEvent) => {
    ran.push({ id: event.id, type: event.type });
  };

  const app = express();
  // A demo aid, not for production: which events had their handler run, in order. Registered
  // before the webhook route so that this GET answers, while every other method but POST gets
  // the webhook route's 405.
  app.get("/kallima-events", (_req, res) => {
    res.json({ events: ran });
  });
  // app.all(), not app.post(): other methods reach the middleware and get 405 `Allow: POST`.
  app.all(
    "/kallima-events",
    kallimaWebhooks({
      secret: options.secret,
      on: {
        // The second argument is the Express { req, res } of the delivery.
        "job.completed": async (event, { req }) => {
          console.log(`job ${event.data.id} completed (delivered to ${req.originalUrl})`);
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

  // Everything after this line gets parsed JSON bodies; the webhook route above is unaffected.
  app.use(express.json());
  app.get("/", (_req, res) => {
    res
      .type("text/plain")
      .send("Kallima webhooks example (Express). POST deliveries to /kallima-events.\n");
  });

  return app;
}
