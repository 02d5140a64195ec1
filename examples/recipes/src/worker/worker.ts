// src/index.ts of a Worker; `wrangler secret put KALLIMA_WEBHOOK_SECRET`
import { createWebhookHandler } from "@kallima/webhooks";

interface Env {
  KALLIMA_WEBHOOK_SECRET: string;
}

const webhooks = createWebhookHandler<{ env: Env }>({
  // A binding: it exists only in a request, so the secret is a function of the context.
  secret: ({ env }) => env.KALLIMA_WEBHOOK_SECRET,
  on: {
    "job.completed": (event) => console.log(`job ${event.data.id} completed`),
  },
});

export default {
  fetch: (request, env) => webhooks.fetch(request, { env }),
} satisfies ExportedHandler<Env>;
