// Cloudflare Workers: `wrangler dev src/worker.ts`, or `wrangler deploy` with
// `wrangler secret put KALLIMA_WEBHOOK_SECRET`. The secret is a binding, read per request.
import { createApp, secretOrDemo } from "./app.js";

type Bindings = { KALLIMA_WEBHOOK_SECRET?: string };

export default createApp<{ Bindings: Bindings }>((c) => secretOrDemo(c.env.KALLIMA_WEBHOOK_SECRET));
