// What the observability check (check-observability.ts) is handed: the secrets, the payload and
// the fixed timestamp the host signs with the shared independent signer (stage.ts), and the
// shape of the two signed deliveries as JSON, which each runtime gets back (a file on Node, Bun
// and Deno; the bundled module "kallima-observed-deliveries" on workerd). No imports: the host
// and every runtime load this file.

export const OBSERVED_SECRET = "whsec_runtimeObservabilitySecret_0123456789";
export const OBSERVED_OTHER_SECRET = "whsec_runtimeObservabilityOther_01234567890";
/** Put in the body: no record, span or measurement may carry it. */
export const OBSERVED_BODY_MARKER = "BODY_MARKER_never_exported";
/** The signed timestamp (2026-04-23T10:00:00Z), and the handler's clock: the deliveries never go stale. */
export const OBSERVED_TIMESTAMP = 1776938400;
export const OBSERVED_EVENT_ID = "evt_runtime_observed";

export const OBSERVED_PAYLOAD = {
  id: OBSERVED_EVENT_ID,
  type: "job.completed",
  api_version: "2026-04-23",
  created_at: "2026-04-23T10:00:00+00:00",
  data: { id: "job_1", status: "completed", note: OBSERVED_BODY_MARKER },
} as const;

/** One signed delivery, as JSON: its headers and its body bytes in base64. */
export interface WireDelivery {
  headers: Record<string, string>;
  body_b64: string;
}

/** `valid` is signed with OBSERVED_SECRET, `forged` with OBSERVED_OTHER_SECRET. */
export interface ObservedDeliveries {
  valid: WireDelivery;
  forged: WireDelivery;
}
