import type {
  DeliveryAttempt,
  DeliveryFault,
  EventObject,
  SignatureFormat,
  WebhookDeliveryObject,
  WebhookObject,
} from "./wire.js";

/** An endpoint as stored: the wire object plus what the API never shows. */
export interface StoredWebhook extends WebhookObject {
  secret: string;
  /** The header format its deliveries are signed in. */
  signature_format: SignatureFormat;
  /** Set by DELETE: the endpoint is gone from the API, its deliveries are orphaned. */
  deleted_at: string | null;
}

/** Where a delivery stands: waiting for an attempt, delivered (2xx), or given up. */
export type DeliveryStatus = "pending" | "succeeded" | "failed";

/** A delivery as stored: the wire object plus its attempts and its retry plan. */
export interface StoredDelivery extends WebhookDeliveryObject {
  status: DeliveryStatus;
  attempt_log: DeliveryAttempt[];
  /** When the next scheduled retry is due; `null` when none is planned. */
  next_attempt_at: string | null;
  /** A fault-injected delivery is sent once as asked and never retried on schedule. */
  fault: DeliveryFault | null;
  /** Header format of this delivery, when the trigger chose one over the endpoint's. */
  signature_format: SignatureFormat | null;
}

/** Everything the dev server keeps across restarts. */
export interface DevState {
  version: 1;
  webhooks: StoredWebhook[];
  events: EventObject[];
  deliveries: StoredDelivery[];
}

export function emptyState(): DevState {
  return { version: 1, webhooks: [], events: [], deliveries: [] };
}
