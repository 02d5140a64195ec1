import type { KallimaError, Webhook, WebhookDelivery } from "@kallima/webhooks-client";
import { KallimaApiError } from "@kallima/webhooks-client";

/** Colours for text output; identity functions when colours are off. */
export interface Paint {
  ok(text: string): string;
  bad(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

export function describeEvents(events: string[] | null): string {
  return events === null || events.length === 0 ? "every event type" : events.join(", ");
}

/** One endpoint, several lines. */
export function webhookLines(hook: Webhook, paint: Paint): string {
  const state = hook.enabled ? paint.ok("enabled") : paint.bad("disabled");
  return [
    `${paint.bold(hook.id)}  ${hook.url}`,
    `  ${state} · events: ${describeEvents(hook.events)}`,
    `  ${paint.dim(`created ${hook.created_at} · updated ${hook.updated_at}`)}`,
  ].join("\n");
}

/** The endpoints as a table, one line each. */
export function webhookTable(hooks: readonly Webhook[], paint: Paint): string {
  if (hooks.length === 0) {
    return `${paint.dim("No endpoints yet: kallima-webhooks endpoints create <url>")}`;
  }
  const rows = hooks.map((hook) => [
    hook.id,
    hook.enabled ? "enabled" : "disabled",
    describeEvents(hook.events),
    hook.url,
  ]);
  return table(["ID", "STATE", "EVENTS", "URL"], rows, paint);
}

function isSuccess(status: number | null): boolean {
  return status !== null && status >= 200 && status < 300;
}

/** One delivery, with the endpoint's whole answer (never cut: it may hold the fix). */
export function deliveryLines(delivery: WebhookDelivery, paint: Paint): string {
  const status = delivery.response_status;
  const mark = isSuccess(status)
    ? paint.ok(`✓ ${status}`)
    : paint.bad(`✗ ${status ?? "no answer"}`);
  const lines = [
    `${mark}  ${delivery.event_type} ${delivery.event_id}`,
    `  ${paint.dim(`delivery ${delivery.id} · attempts ${delivery.attempts} · ${delivery.delivered_at ? `delivered ${delivery.delivered_at}` : "not delivered"}`)}`,
  ];
  if (delivery.response_body) lines.push(`  answer: ${delivery.response_body}`);
  return lines.join("\n");
}

/** The delivery history as a table, one line each. */
export function deliveryTable(deliveries: readonly WebhookDelivery[], paint: Paint): string {
  if (deliveries.length === 0) return paint.dim("No deliveries yet.");
  const rows = deliveries.map((delivery) => [
    delivery.created_at,
    delivery.event_type,
    delivery.event_id,
    delivery.response_status === null ? "-" : String(delivery.response_status),
    String(delivery.attempts),
    delivery.delivered_at ? "yes" : "no",
    delivery.id,
  ]);
  return table(
    ["CREATED", "EVENT", "EVENT ID", "STATUS", "ATTEMPTS", "DELIVERED", "DELIVERY ID"],
    rows,
    paint,
  );
}

function table(head: string[], rows: string[][], paint: Paint): string {
  const widths = head.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join("  ");
  return [paint.dim(line(head)), ...rows.map(line)].join("\n");
}

/** What a failed API call prints: the problem, and what to check. */
export function describeApiFailure(error: KallimaError): string {
  const hint = hintFor(error);
  return hint ? `${error.message}\n  ${hint}` : error.message;
}

function hintFor(error: KallimaError): string | undefined {
  switch (error.code) {
    case "connection_failed":
      return "Is the API running at --base-url (or $KALLIMA_BASE_URL)? For a local one: kallima-webhooks dev.";
    case "timeout":
      return "Raise --timeout, or check --base-url.";
    case "not_found":
      return "Check the id (kallima-webhooks endpoints list shows them).";
    default:
      if (error instanceof KallimaApiError && error.status === 401) {
        return "Check --api-key or $KALLIMA_API_KEY.";
      }
      return undefined;
  }
}

/** The JSON printed instead of a result when a call fails with `--json`. */
export function apiFailureJson(error: KallimaError): Record<string, unknown> {
  const base: Record<string, unknown> = { code: error.code, message: error.message };
  if (error instanceof KallimaApiError) {
    Object.assign(base, {
      status: error.status,
      title: error.title,
      detail: error.detail,
      request_id: error.requestId,
    });
  }
  return { error: base };
}
