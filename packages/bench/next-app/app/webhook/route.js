import { kallimaWebhooks } from "@kallima/webhooks-next";
import { countHandled } from "../counter.js";

export const POST = kallimaWebhooks({
  secret: process.env.KALLIMA_WEBHOOK_SECRET,
  on: { "job.completed": () => countHandled() },
});
