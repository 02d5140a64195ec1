// Runs the shared PROTOCOL vectors through the built core package on whatever runtime loads
// this file, and says which HMAC engine the core resolved to there.
import { createWebhookHandler, WebhookVerifier } from "@kallima/webhooks";

const STATUS = {
  ok: 200,
  missing_signature: 400,
  missing_timestamp: 400,
  invalid_timestamp: 400,
  invalid_payload: 400,
  invalid_signature: 401,
  timestamp_too_old: 401,
  timestamp_in_future: 401,
};

const bytesOf = (base64) => Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
const headerOf = (headers, name) =>
  Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];

/** Identifies the runtime executing this code. */
export function runtimeVersion() {
  if (typeof globalThis.Deno !== "undefined") return `deno ${globalThis.Deno.version.deno}`;
  if (typeof globalThis.Bun !== "undefined") return `bun ${globalThis.Bun.version}`;
  if (globalThis.navigator?.userAgent === "Cloudflare-Workers") return "workerd";
  if (typeof globalThis.process?.versions?.node === "string")
    return `node ${globalThis.process.versions.node}`;
  return globalThis.navigator?.userAgent ?? "unknown";
}

/** Checks every vector with the verifier and the handler; returns a JSON-able report. */
export async function checkVectors(vectors) {
  const failures = [];
  for (const vector of vectors) {
    const options = {
      secret: vector.secrets,
      now: () => vector.now * 1000,
      ...(vector.tolerance_seconds ? { toleranceSeconds: vector.tolerance_seconds } : {}),
    };
    const body = bytesOf(vector.body_b64);
    const outcome = await new WebhookVerifier(options)
      .verify({
        payload: body,
        signature: headerOf(vector.headers, "x-kallima-signature"),
        timestamp: headerOf(vector.headers, "x-kallima-timestamp"),
      })
      .then(
        (event) =>
          event.type === vector.event_type && event.id === vector.event_id
            ? "ok"
            : `ok but event ${event.type}/${event.id}`,
        (error) => error?.code ?? String(error),
      );
    const result = await createWebhookHandler({ ...options, onUnhandled: () => {} }).handle({
      headers: vector.headers,
      rawBody: body,
    });
    if (outcome !== vector.expect || result.status !== STATUS[vector.expect]) {
      failures.push(
        `${vector.name}: expected ${vector.expect}/${STATUS[vector.expect]}, got ${outcome}/${result.status}`,
      );
    }
  }
  const engine = new WebhookVerifier({ secret: "whsec_engineProbe" }).engine;
  return { runtime: runtimeVersion(), engine, total: vectors.length, failures };
}
