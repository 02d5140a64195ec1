import { serve } from "@hono/node-server";
import { createApp, secretOrDemo } from "./app.js";

const hostname = process.env.HOST ?? "127.0.0.1";
const port = Number(process.env.PORT ?? 3104);
const app = createApp(secretOrDemo(process.env.KALLIMA_WEBHOOK_SECRET));

serve({ fetch: app.fetch, hostname, port }, (info) => {
  console.log(`listening on http://${hostname}:${info.port}`);
});
