// app/routes/webhooks.kallima.ts: a resource route (no default export)
import { createWebhookHandler } from "@kallima/webhooks";
import type { ActionFunctionArgs, LoaderFunctionArgs } from "react-router";

const webhooks = createWebhookHandler({
  // A function, read per request: building or prerendering may load the module without secrets.
  secret: () => process.env.KALLIMA_WEBHOOK_SECRET!,
  on: {
    "job.completed": (event) => console.log(`job ${event.data.id} completed`),
  },
});

// POST (and PUT, PATCH, DELETE) reach the action.
export const action = ({ request }: ActionFunctionArgs) => webhooks.fetch(request);
// GET and HEAD reach the loader (without one React Router answers 400): the handler answers
// them 405 with `Allow: POST`.
export const loader = ({ request }: LoaderFunctionArgs) => webhooks.fetch(request);
