import { serve } from "@hono/node-server";
import { createApp, secretOrDemo } from "./app.js";

const hostname = process.env.HOST ?? "127.0.0.1";
const port = Number(process.env.PORT ?? 3104);
const app = createApp(secretOrDemo(process.env.KALLIMA_WEBHOOK_SECRET));

serve(
  {
    fetch: app.fetch,
    hostname,
    port,
    // Node's defaults give a slow client 300 s to send its request (60 s for the headers); a
    // Kallima delivery is a small body sent at once, and Kallima stops waiting after 30 s.
    serverOptions: { requestTimeout: 10_000, headersTimeout: 5_000 },
  },
  (info) => {
    console.log(`listening on http://${hostname}:${info.port}`);
  },
);
