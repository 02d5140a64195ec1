/**
 * The answers of Kallima's endpoints API, field for field as `PROTOCOL.md` (from Kallima's API
 * reference) records them. The dev server answers exactly these shapes.
 */

/** A registered endpoint, as `GET /v1/webhooks/{webhook_id}` answers it. */
export interface WebhookObject {
  id: string;
  object: "webhook";
  url: string;
  enabled: boolean;
  /** The event types it receives; `null` means every type. */
  events: string[] | null;
  created_at: string;
  updated_at: string;
}

/** The answer of create and of a rotation: the only times the secret is shown. */
export interface WebhookObjectWithSecret extends WebhookObject {
  secret: string;
}

/** One delivery of one event to one endpoint, with its latest answer. */
export interface WebhookDeliveryObject {
  id: string;
  object: "webhook_delivery";
  /** The endpoint it targeted. */
  webhook_id: string;
  /** Stable across duplicates and retries: receivers deduplicate on it. */
  event_id: string;
  event_type: string;
  created_at: string;
  /** The JSON event sent. */
  payload: Record<string, unknown>;
  /** The latest attempt's HTTP status; `null` before any answer (or after a timeout). */
  response_status: number | null;
  /** The first 4096 bytes of the latest answer's body. */
  response_body: string | null;
  /** Attempts made so far. */
  attempts: number;
  /** When a 2xx answer was recorded; `null` until then. */
  delivered_at: string | null;
}

/** An error answer (`Content-Type: application/problem+json`). */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  request_id: string;
}

/** The header formats Kallima signs in (see PROTOCOL.md). */
export type SignatureFormat = "x-headers" | "kallima-signature";

/**
 * One attempt of a delivery, as the dev server records it (dev-only: Kallima's reference shows
 * only the count). `GET /v1/dev/deliveries/{id}/attempts` lists them.
 */
export interface DeliveryAttempt {
  /** 1 for the first attempt. */
  number: number;
  started_at: string;
  /** `null` when no answer came (timeout, refused connection). */
  response_status: number | null;
  /** Time from sending to the answer's headers, or to giving up. */
  latency_ms: number;
  /** Why no answer: `timeout` or the network error's message. */
  error: string | null;
  /** What started it: the first send, a scheduled retry, or a manual retry. */
  trigger: "initial" | "scheduled_retry" | "manual_retry";
  /** The fault injected into this attempt, if any. */
  fault: DeliveryFault | null;
}

/** A deliberately bad attempt, to test a receiver's defences. */
export type DeliveryFault = "stale_timestamp" | "tampered_body" | "wrong_secret";

/** A stored event, as `GET /v1/dev/events` lists it (dev-only). */
export interface EventObject {
  id: string;
  object: "event";
  type: string;
  api_version: string;
  created_at: string;
  data: unknown;
}
