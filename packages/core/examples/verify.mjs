// A self-contained tour of @kallima/webhooks: sign a delivery the way Kallima does, then verify it,
// a tampered copy and a stale one. From the repository root, after `pnpm build`:
// `node packages/core/examples/verify.mjs`.
import { createWebhookHandler } from "@kallima/webhooks";
import { jobCompletedEvent, signPayload } from "@kallima/webhooks/testing";

const secret = "whsec_exampleSecretForTheQuickStart000000";
const handled = [];
const webhooks = createWebhookHandler({
  secret,
  on: { "job.completed": (event) => handled.push(event.data.id) },
});

const event = jobCompletedEvent({ data: { id: "job_quickstart" } });
const valid = await signPayload({ secret, payload: event });
const stale = await signPayload({
  secret,
  payload: event,
  timestamp: Math.floor(Date.now() / 1000) - 3600,
});
const tamperedBody = String(valid.body).replace("job_quickstart", "job_forged");

const deliveries = [
  ["valid job.completed", { headers: valid.headers, rawBody: valid.body }],
  ["same event again", { headers: valid.headers, rawBody: valid.body }],
  ["tampered body", { headers: valid.headers, rawBody: tamperedBody }],
  ["stale timestamp", { headers: stale.headers, rawBody: stale.body }],
];

console.log(`engine: ${webhooks.verifier.engine}`);
for (const [label, request] of deliveries) {
  const result = await webhooks.handle(request);
  const detail = result.error ? result.error.code : result.outcome;
  console.log(`${label.padEnd(22)} → ${result.status} ${detail}`);
}
console.log(`handler ran for: ${handled.join(", ")}`);
