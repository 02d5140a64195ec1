// src/pages/webhooks/kallima.ts

import { getSecret } from "astro:env/server";
import { createWebhookHandler } from "@kallima/webhooks";
import type { APIRoute } from "astro";

export const prerender = false; // served on demand (the default with output: "server")

const webhooks = createWebhookHandler({
  secret: () => getSecret("KALLIMA_WEBHOOK_SECRET")!,
  on: {
    "job.completed": (event) => console.log(`job ${event.data.id} completed`),
  },
});

// ALL rather than POST: other methods get the core's 405 with `Allow: POST`, not Astro's 404.
export const ALL: APIRoute = ({ request }) => webhooks.fetch(request);
