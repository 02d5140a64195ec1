// Runs both lists of the shared PROTOCOL vectors through the built core package on whatever
// runtime loads this file, and says which HMAC engine the core resolved to there.
//
// Every case goes through each way a caller can hand the core its headers, and all of them must
// give the vector's expected code (and, through handle(), the status of STATUS below):
//   `vectors` (X-Kallima-Signature + X-Kallima-Timestamp):
//     verify({ signature, timestamp }), verify({ headers }), handle({ headers })
//   `kallima_signature_vectors` (Kallima-Signature: t=…,v1=…):
//     verify({ headers }), verify({ signature }) with no timestamp, handle({ headers })
import { createWebhookHandler, WebhookVerifier } from "@kallima/webhooks";

// Written here from PROTOCOL.md, not imported from the core, so that a wrong status in the core
// cannot also be the expected one.
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

const LISTS = {
  vectors: {
    verifyInputs: (vector, payload) => ({
      "verify({ signature, timestamp })": {
        payload,
        signature: headerOf(vector.headers, "x-kallima-signature"),
        timestamp: headerOf(vector.headers, "x-kallima-timestamp"),
      },
      "verify({ headers })": { payload, headers: vector.headers },
    }),
  },
  kallima_signature_vectors: {
    verifyInputs: (vector, payload) => ({
      "verify({ headers })": { payload, headers: vector.headers },
      // The value alone, as a caller that reads the one header itself passes it.
      "verify({ signature }), no timestamp": {
        payload,
        signature: headerOf(vector.headers, "kallima-signature"),
      },
    }),
  },
};

/** What verify() came to, as a vector's `expect` string (or a description of what went wrong). */
function outcomeOf(promise, vector) {
  return promise.then(
    (event) =>
      event.type === vector.event_type && event.id === vector.event_id
        ? "ok"
        : `ok but event ${event?.type}/${event?.id}`,
    (error) => error?.code ?? String(error),
  );
}

async function checkList(list, vectors) {
  const failures = [];
  for (const vector of vectors) {
    const options = {
      secret: vector.secrets,
      now: () => vector.now * 1000,
      ...(vector.tolerance_seconds ? { toleranceSeconds: vector.tolerance_seconds } : {}),
    };
    const body = bytesOf(vector.body_b64);
    const verifier = new WebhookVerifier(options);
    const got = [];
    for (const [path, input] of Object.entries(LISTS[list].verifyInputs(vector, body))) {
      let outcome;
      try {
        outcome = await outcomeOf(verifier.verify(input), vector);
      } catch (error) {
        // verify() must reject, never throw: a throw is a failure of its own.
        outcome = `threw ${error?.code ?? String(error)}`;
      }
      if (outcome !== vector.expect) got.push(`${path} gave ${outcome}`);
    }
    const result = await createWebhookHandler({ ...options, onUnhandled: () => {} }).handle({
      headers: vector.headers,
      rawBody: body,
    });
    const handled =
      result.status === 200
        ? result.event?.type === vector.event_type && result.event?.id === vector.event_id
          ? "ok"
          : `ok but event ${result.event?.type}/${result.event?.id}`
        : (result.error?.code ?? result.body);
    if (result.status !== STATUS[vector.expect] || handled !== vector.expect) {
      got.push(`handle({ headers }) gave ${result.status} ${handled}`);
    }
    if (got.length > 0) {
      failures.push(`${list} "${vector.name}": expected ${vector.expect}; ${got.join("; ")}`);
    }
  }
  return { total: vectors.length, failures };
}

/**
 * Checks every case of both lists; returns a JSON-able report. A list that is missing or empty
 * fails rather than passing with 0 cases, so that a vectors file without the second format
 * cannot turn the matrix green.
 */
export async function checkVectors(file) {
  const lists = {};
  for (const list of Object.keys(LISTS)) {
    const vectors = file[list];
    lists[list] =
      Array.isArray(vectors) && vectors.length > 0
        ? await checkList(list, vectors)
        : { total: 0, failures: [`${list}: no cases in the vectors file`] };
  }
  const engine = new WebhookVerifier({ secret: "whsec_engineProbe" }).engine;
  return { runtime: runtimeVersion(), engine, lists };
}
