// src/routes/webhooks/kallima/+server.ts

import { createWebhookHandler } from "@kallima/webhooks";
import type { RequestHandler } from "@sveltejs/kit";
import { env } from "$env/dynamic/private";

const webhooks = createWebhookHandler({
  // A function, read per request: SvelteKit loads route modules at build time, without secrets.
  secret: () => env.KALLIMA_WEBHOOK_SECRET!,
  on: {
    "job.completed": (event) => console.log(`job ${event.data.id} completed`),
  },
});

// Only POST: SvelteKit answers other methods 405 with `Allow: POST` itself.
export const POST: RequestHandler = ({ request }) => webhooks.fetch(request);
