/**
 * The wire shapes of Kallima's endpoints API, field for field as its API reference gives them
 * (see PROTOCOL.md, "Endpoints API"). Field names stay snake_case: what you read is what was sent.
 */

/** A registered webhook endpoint, as `GET /v1/webhooks/{webhook_id}` answers it. */
export interface Webhook {
  /** UUID. */
  id: string;
  object: "webhook";
  /** Where Kallima POSTs the signed deliveries. */
  url: string;
  /** A disabled endpoint is sent nothing. */
  enabled: boolean;
  /** The event types it is subscribed to; `null` means every type. */
  events: string[] | null;
  /** ISO-8601. */
  created_at: string;
  /** ISO-8601. */
  updated_at: string;
}

/**
 * A webhook object carrying its signing secret: only the answers to `create` and `rotateSecret`
 * have one, and no later call shows it again. Store it where your receiver reads it.
 */
export interface WebhookWithSecret extends Webhook {
  /** The signing secret (`whsec_…`). */
  secret: string;
}

/**
 * One event sent to one endpoint, with its answer: what "fire a test event" returns, and the items
 * of the delivery history.
 */
export interface WebhookDelivery {
  /** UUID. */
  id: string;
  object: "webhook_delivery";
  /** The endpoint it targeted. The field name is inferred: the reference names the field's meaning only. */
  webhook_id: string;
  /** The event's id, stable across retries: receivers deduplicate on it. */
  event_id: string;
  event_type: string;
  /** ISO-8601. */
  created_at: string;
  /** The JSON body that was sent. */
  payload: unknown;
  /** The status the endpoint answered the last attempt with; `null` when it never answered. */
  response_status: number | null;
  /** The first 4096 bytes of the endpoint's answer. The field name is inferred. */
  response_body: string | null;
  /** Attempts made so far. */
  attempts: number;
  /** ISO-8601 time a successful delivery was recorded; `null` until one is. The field name is inferred. */
  delivered_at: string | null;
}

/** What `create` sends: `POST /v1/webhooks`. */
export interface WebhookCreateParams {
  /** The endpoint's URL (Kallima delivers to HTTPS URLs). */
  url: string;
  /** The event types to subscribe to; omitted, `null` or `[]` subscribes to every type. */
  events?: readonly string[] | null;
  /** Default `true` on Kallima's side. */
  enabled?: boolean;
}

/** What `update` sends: `PATCH /v1/webhooks/{webhook_id}`; omitted fields are left as they are. */
export interface WebhookUpdateParams {
  url?: string;
  /** The new subscription; `null` or `[]` means every type. */
  events?: readonly string[] | null;
  enabled?: boolean;
}

/** What `listDeliveries` sends as its query. */
export interface DeliveryListParams {
  /** At most this many deliveries, newest first (the Python SDK's `limit`). */
  limit?: number;
}

/**
 * A problem+json error body (RFC 9457), as Kallima answers every error. Every field may be
 * missing from a misbehaving proxy's answer, so all are optional here.
 */
export interface ProblemDetails {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  instance?: string;
  /** Kallima's stable machine-readable code, e.g. `insufficient_credits`. */
  code?: string;
  request_id?: string;
  [extension: string]: unknown;
}
