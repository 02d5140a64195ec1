// server.ts, run with `bun server.ts`
import { createWebhookHandler } from "@kallima/webhooks";
import { Elysia } from "elysia";

const webhooks = createWebhookHandler({
  secret: Bun.env.KALLIMA_WEBHOOK_SECRET!,
  on: {
    "job.completed": (event) => console.log(`job ${event.data.id} completed`),
  },
});

const app = new Elysia()
  // `request`, never `body`: the signature covers the raw bytes, which parsing would consume.
  // `.all`: other methods get the core's 405 with `Allow: POST`, not Elysia's 404.
  .all("/webhooks/kallima", ({ request }) => webhooks.fetch(request), { parse: "none" })
  .listen(Number(Bun.env.PORT ?? 3000));

console.log(`listening on ${app.server?.url}`);
