// server.ts, run with `deno run --allow-net --allow-env server.ts`
import { createWebhookHandler } from "@kallima/webhooks";

const webhooks = createWebhookHandler({
  secret: Deno.env.get("KALLIMA_WEBHOOK_SECRET")!,
  on: {
    "job.completed": (event) => console.log(`job ${event.data.id} completed`),
  },
});

Deno.serve({ port: Number(Deno.env.get("PORT") ?? 8000) }, (request) =>
  new URL(request.url).pathname === "/webhooks/kallima"
    ? webhooks.fetch(request)
    : new Response("Not Found", { status: 404 }),
);
