// server.ts, run with `bun server.ts`
import { createWebhookHandler } from "@kallima/webhooks";

const webhooks = createWebhookHandler({
  secret: Bun.env.KALLIMA_WEBHOOK_SECRET!,
  on: {
    "job.completed": (event) => console.log(`job ${event.data.id} completed`),
  },
});

const server = Bun.serve({
  port: Number(Bun.env.PORT ?? 3000),
  // Every method reaches the handler: it answers anything but POST with 405 and `Allow: POST`.
  routes: { "/webhooks/kallima": (request) => webhooks.fetch(request) },
  fetch: () => new Response("Not Found", { status: 404 }),
});

console.log(`listening on ${server.url}`);
