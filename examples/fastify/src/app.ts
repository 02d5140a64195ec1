import { getFailureReason, kallimaWebhooks } from "@kallima/webhooks-fastify";
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";

/** An event whose handler ran, as `GET /kallima-events` lists it. */
export interface RecordedEvent {
  id: string;
  type: string;
}

/**
 * Builds the example app. The plugin's route reads the exact bytes Kallima signed, whatever the
 * content type, through a parser of the plugin's own context: the app's other routes still get
 * Fastify's parsed JSON.
 */
export async function createApp(
  options: { secret: string | readonly string[] },
  fastifyOptions: FastifyServerOptions = {},
): Promise<FastifyInstance> {
  const ran: RecordedEvent[] = [];
  const record = (event: RecordedEvent) => {
    ran.push({ id: event.id, type: event.type });
  };

  const app = Fastify(fastifyOptions);
  // A demo aid, not for production: which events had their handler run, in order. The plugin is
  // registered with otherMethods: "leave" so that this GET can share its path: the plugin's route
  // is POST only, and other methods get Fastify's 404 (without the GET, leave it out: they get 405).
  app.get("/kallima-events", async () => ({ events: ran }));
  await app.register(kallimaWebhooks, {
    path: "/kallima-events",
    otherMethods: "leave",
    secret: options.secret,
    on: {
      // The second argument is the Fastify { request, reply } of the delivery.
      "job.completed": async (event, { request }) => {
        console.log(`job ${event.data.id} completed (delivered to ${request.url})`);
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
  });
  // The app's own routes parse JSON as Fastify always does: the plugin changed nothing here.
  app.post("/echo", async (request) => ({ parsed: request.body }));
  app.get("/", async (_request, reply) =>
    reply
      .type("text/plain")
      .send("Kallima webhooks example (Fastify). POST deliveries to /kallima-events.\n"),
  );
  return app;
}
