import { getFailureReason, kallimaWebhooks } from "@kallima/webhooks-koa";
import { bodyParser } from "@koa/bodyparser";
import Router from "@koa/router";
import Koa from "koa";

/** An event whose handler ran, as `GET /kallima-events` lists it. */
export interface RecordedEvent {
  id: string;
  type: string;
}

/**
 * Builds the example app. The webhook routes come BEFORE `bodyParser()`, so that the webhook
 * middleware reads the exact bytes Kallima signed; the app's other routes still get parsed JSON.
 */
export function createApp(options: { secret: string | readonly string[] }): Koa {
  const ran: RecordedEvent[] = [];
  const record = (event: RecordedEvent) => {
    ran.push({ id: event.id, type: event.type });
  };

  const app = new Koa();
  const webhooks = new Router();
  // A demo aid, not for production: which events had their handler run, in order. Registered
  // before the webhook route so that this GET answers, while every other method but POST gets
  // the webhook middleware's 405.
  webhooks.get("/kallima-events", (ctx) => {
    ctx.body = { events: ran };
  });
  // router.all(), not router.post(): other methods reach the middleware and get 405 `Allow: POST`.
  webhooks.all(
    "/kallima-events",
    kallimaWebhooks({
      secret: options.secret,
      on: {
        // The second argument is the Koa ctx of the delivery.
        "job.completed": async (event, ctx) => {
          console.log(`job ${event.data.id} completed (delivered to ${ctx.originalUrl})`);
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
  app.use(webhooks.routes());

  // Everything after this line gets parsed JSON bodies; the webhook routes above are unaffected.
  app.use(bodyParser());
  const routes = new Router();
  routes.post("/echo", (ctx) => {
    ctx.body = { parsed: ctx.request.body };
  });
  routes.get("/", (ctx) => {
    ctx.type = "text/plain";
    ctx.body = "Kallima webhooks example (Koa). POST deliveries to /kallima-events.\n";
  });
  app.use(routes.routes());
  return app;
}
