import type { DevState, StoredDelivery, StoredWebhook } from "./state.js";

function escapeHtml(value: unknown): string {
  return String(value)
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

function webhookState(webhook: StoredWebhook): string {
  if (webhook.deleted_at !== null) return "deleted";
  return webhook.enabled ? "enabled" : "disabled";
}

function deliveryState(delivery: StoredDelivery, webhooks: Map<string, StoredWebhook>): string {
  const webhook = webhooks.get(delivery.webhook_id);
  if (delivery.status !== "pending") return delivery.status;
  if (!webhook || webhook.deleted_at !== null) return "orphaned";
  if (!webhook.enabled) return "paused";
  return delivery.next_attempt_at ? `pending, next attempt ${delivery.next_attempt_at}` : "pending";
}

function attemptsList(delivery: StoredDelivery): string {
  if (delivery.attempt_log.length === 0) return "<span>none yet</span>";
  const items = delivery.attempt_log.map((attempt) => {
    const answer =
      attempt.response_status === null
        ? `no answer (${escapeHtml(attempt.error)})`
        : `HTTP ${attempt.response_status}`;
    const fault = attempt.fault ? `, fault ${escapeHtml(attempt.fault)}` : "";
    return `<li data-attempt="${attempt.number}">#${attempt.number} ${answer} in ${attempt.latency_ms} ms <small>(${escapeHtml(attempt.trigger.replace("_", " "))}${fault}, ${escapeHtml(attempt.started_at)})</small></li>`;
  });
  return `<ol class="attempts">${items.join("")}</ol>`;
}

/** The dev server's page: endpoints, events, and deliveries with every attempt, newest first. */
export function renderPage(state: Readonly<DevState>): string {
  const webhooks = new Map(state.webhooks.map((webhook) => [webhook.id, webhook]));
  const endpointRows = [...state.webhooks]
    .reverse()
    .map(
      (webhook) =>
        `<tr data-webhook-id="${escapeHtml(webhook.id)}"><td><code>${escapeHtml(webhook.id)}</code></td><td>${escapeHtml(webhook.url)}</td><td class="state">${webhookState(webhook)}</td><td>${webhook.events === null ? "all" : escapeHtml(webhook.events.join(", "))}</td><td>${escapeHtml(webhook.signature_format)}</td><td>${escapeHtml(webhook.created_at)}</td></tr>`,
    )
    .join("");
  const eventRows = [...state.events]
    .reverse()
    .slice(0, 200)
    .map(
      (event) =>
        `<tr data-event-id="${escapeHtml(event.id)}"><td><code>${escapeHtml(event.id)}</code></td><td>${escapeHtml(event.type)}</td><td>${escapeHtml(event.created_at)}</td></tr>`,
    )
    .join("");
  const deliveryRows = [...state.deliveries]
    .reverse()
    .slice(0, 200)
    .map((delivery) => {
      const url = webhooks.get(delivery.webhook_id)?.url ?? delivery.webhook_id;
      return `<tr data-delivery-id="${escapeHtml(delivery.id)}"><td><code>${escapeHtml(delivery.id)}</code></td><td>${escapeHtml(delivery.event_type)}<br><code>${escapeHtml(delivery.event_id)}</code></td><td>${escapeHtml(url)}</td><td class="state">${escapeHtml(deliveryState(delivery, webhooks))}</td><td>${attemptsList(delivery)}</td></tr>`;
    })
    .join("");
  const empty = (columns: number, text: string) =>
    `<tr><td colspan="${columns}" class="empty">${text}</td></tr>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Kallima webhooks dev server</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#1b1b1b}
table{border-collapse:collapse;width:100%;margin-bottom:2rem}
th,td{border-bottom:1px solid #ddd;padding:.4rem .6rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}
code{font-size:12px}
ol.attempts{margin:0;padding:0;list-style:none}
.empty{color:#777}
</style>
</head>
<body>
<h1>Kallima webhooks dev server</h1>
<p>A local Kallima sender. Reload the page to see new attempts.</p>
<h2>Endpoints</h2>
<table id="endpoints"><thead><tr><th>id</th><th>url</th><th>state</th><th>events</th><th>signature</th><th>created</th></tr></thead>
<tbody>${endpointRows || empty(6, "No endpoint yet: POST /v1/webhooks.")}</tbody></table>
<h2>Events</h2>
<table id="events"><thead><tr><th>id</th><th>type</th><th>created</th></tr></thead>
<tbody>${eventRows || empty(3, "No event yet: kallima-webhooks trigger job.completed.")}</tbody></table>
<h2>Deliveries</h2>
<table id="deliveries"><thead><tr><th>id</th><th>event</th><th>endpoint</th><th>state</th><th>attempts</th></tr></thead>
<tbody>${deliveryRows || empty(5, "No delivery yet.")}</tbody></table>
</body>
</html>
`;
}
