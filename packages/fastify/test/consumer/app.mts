// Compiled against the BUILT types (dist/), as an app sees them: with Fastify 5's types from
// ./tsconfig.json, with Fastify 4's from ../consumer-fastify4/tsconfig.json.
import {
  createWebhookHandler,
  type FastifyWebhookContext,
  kallimaWebhooks,
  verifyKallimaWebhook,
} from "@kallima/webhooks-fastify";
import Fastify, { type FastifyRequest } from "fastify";

const app = Fastify();
await app.register(kallimaWebhooks, {
  path: "/kallima-events",
  secret: ({ request }) => String((request.params as { tenant?: string }).tenant),
  on: {
    "job.completed": (event, context: FastifyWebhookContext) => {
      const request: FastifyRequest = context.request;
      void [event.data.id, request.ip];
    },
  },
});
await app.register(kallimaWebhooks, {
  prefix: "/shared",
  path: "/kallima-events",
  otherMethods: "leave",
  handler: createWebhookHandler<FastifyWebhookContext>({ secret: "whsec_consumer" }),
});
app.post(
  "/verified",
  { preParsing: verifyKallimaWebhook({ secret: "whsec_consumer" }) },
  async (request) => {
    // @ts-expect-error possibly undefined until checked
    void request.kallimaEvent.id;
    const id: string | undefined = request.kallimaEvent?.id;
    return { id };
  },
);
