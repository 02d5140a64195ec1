import {
  getFailureReason,
  kallimaWebhooks,
  type SecretOption,
  type VerifiedKallimaEvent,
} from "@kallima/webhooks-hono";
import { type Context, type Env, Hono } from "hono";

/** The demo secret of examples/README.md: never use it for a real endpoint. */
export const DEMO_SECRET = "whsec_kallimaDemoSecret_notForProduction_01";

let warned = false;

/**
 * The configured secrets (several, comma-separated, during a rotation: "whsec_new,whsec_old"), or
 * the demo secret with a warning on stderr when none is set.
 */
export function secretOrDemo(secret: string | undefined): string[] {
  const secrets = (secret ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
  if (secrets.length > 0) return secrets;
  if (!warned) {
    warned = true;
    console.warn(
      "KALLIMA_WEBHOOK_SECRET is not set: using the demo secret. Never use it for a real endpoint.",
    );
  }
  return [DEMO_SECRET];
}

/**
 * The example app, the same on every runtime: only how the secret is found and how the server
 * starts differ, in node.ts, bun.ts, deno.ts and worker.ts.
 */
export function createApp<E extends Env = Env>(secret: SecretOption<Context<E>>): Hono<E> {
  // What ran, for `GET /kallima-events` (a demo aid: keep real state in a database).
  const handled: { id: string; type: string }[] = [];
  const record = (event: VerifiedKallimaEvent) => {
    handled.push({ id: event.id, type: event.type });
  };

  const app = new Hono<E>();
  // Registered first, so that it answers GET; the webhook route below takes every other method
  // (app.all), and the adapter answers anything but POST with 405.
  app.get("/kallima-events", (c) => c.json({ events: handled }));
  app.all(
    "/kallima-events",
    kallimaWebhooks<E>({
      secret,
      on: {
        "job.completed": (event) => {
          console.log(`job ${event.data.id} completed`);
          record(event);
        },
        "job.failed": (event) => {
          console.log(`job ${event.data.id} failed: ${getFailureReason(event.data).message}`);
          record(event);
        },
        "webhook.test": (event) => {
          console.log(`test event for webhook ${event.data.webhook_id}`);
          record(event);
        },
      },
      // Newer event types are acknowledged (2xx) so that Kallima does not retry them forever.
      onUnhandled: (event) => console.log(`acknowledged ${event.type} (no handler)`),
      // Rejected deliveries and failures are logged by the core (console, the default logger).
    }),
  );
  return app;
}
