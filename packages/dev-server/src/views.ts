import type { StoredDelivery, StoredWebhook } from "./state.js";
import type { WebhookDeliveryObject, WebhookObject } from "./wire.js";

// What the API shows of the stored records: the reference's fields, nothing kept for the sender.

export function publicWebhook(webhook: StoredWebhook): WebhookObject {
  return {
    id: webhook.id,
    object: "webhook",
    url: webhook.url,
    enabled: webhook.enabled,
    events: webhook.events === null ? null : [...webhook.events],
    created_at: webhook.created_at,
    updated_at: webhook.updated_at,
  };
}

export function publicDelivery(delivery: StoredDelivery): WebhookDeliveryObject {
  return {
    id: delivery.id,
    object: "webhook_delivery",
    webhook_id: delivery.webhook_id,
    event_id: delivery.event_id,
    event_type: delivery.event_type,
    created_at: delivery.created_at,
    payload: delivery.payload,
    response_status: delivery.response_status,
    response_body: delivery.response_body,
    attempts: delivery.attempts,
    delivered_at: delivery.delivered_at,
  };
}
