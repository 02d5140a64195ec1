// Runs both lists of the shared PROTOCOL vectors through the built core package on whatever
// runtime loads this file, and says which HMAC engine the core resolved to there. It runs inside
// Node, Bun, Deno and workerd: only web-standard globals here, and `@kallima/webhooks` resolved
// by that runtime's own package conditions (esbuild transpiles this file without bundling it).
//
// Every case goes through each way a caller can hand the core its headers, and all of them must
// give the vector's expected code (and, through handle(), the status of STATUS below):
//   `vectors` (X-Kallima-Signature + X-Kallima-Timestamp):
//     verify({ signature, timestamp }), verify({ headers }), handle({ headers })
//   `kallima_signature_vectors` (Kallima-Signature: t=…,v1=…):
//     verify({ headers }), verify({ signature }) with no timestamp, handle({ headers })
import {
  createWebhookHandler,
  type VerifiedKallimaEvent,
  type VerifyInput,
  WebhookVerifier,
} from "@kallima/webhooks";
import type { TestVector, VectorFile } from "@kallima/webhooks-conformance/vectors";

// Written here from PROTOCOL.md, not imported from the core, so that a wrong status in the core
// cannot also be the expected one.
const STATUS: Readonly<Record<string, number>> = {
  ok: 200,
  missing_signature: 400,
  missing_timestamp: 400,
  invalid_timestamp: 400,
  invalid_payload: 400,
  invalid_signature: 401,
  timestamp_too_old: 401,
  timestamp_in_future: 401,
};

/** The lists, in the order of the table. */
export const LIST_NAMES = ["vectors", "kallima_signature_vectors"] as const;
export type ListName = (typeof LIST_NAMES)[number];

/** One list's result: how many cases, and a line per failing case. */
export interface ListReport {
  total: number;
  failures: string[];
}

/** What a runtime reports back, as one JSON value. */
export interface VectorsReport {
  runtime: string;
  engine: string;
  lists: Partial<Record<ListName, ListReport>>;
}

const bytesOf = (base64: string): Uint8Array =>
  Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
const headerOf = (headers: Record<string, string>, name: string): string | undefined =>
  Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];

/** The globals that tell the runtimes apart; each is absent on the others. */
interface RuntimeGlobals {
  Deno?: { version: { deno: string } };
  Bun?: { version: string };
  navigator?: { userAgent?: string };
  process?: { versions?: { node?: string } };
}

/** Identifies the runtime executing this code. */
export function runtimeVersion(): string {
  const g = globalThis as RuntimeGlobals;
  if (g.Deno !== undefined) return `deno ${g.Deno.version.deno}`;
  if (g.Bun !== undefined) return `bun ${g.Bun.version}`;
  if (g.navigator?.userAgent === "Cloudflare-Workers") return "workerd";
  const node = g.process?.versions?.node;
  if (typeof node === "string") return `node ${node}`;
  return g.navigator?.userAgent ?? "unknown";
}

type VerifyInputs = (vector: TestVector, payload: Uint8Array) => Record<string, VerifyInput>;

const VERIFY_INPUTS: Record<ListName, VerifyInputs> = {
  vectors: (vector, payload) => ({
    "verify({ signature, timestamp })": {
      payload,
      signature: headerOf(vector.headers, "x-kallima-signature"),
      timestamp: headerOf(vector.headers, "x-kallima-timestamp"),
    },
    "verify({ headers })": { payload, headers: vector.headers },
  }),
  kallima_signature_vectors: (vector, payload) => ({
    "verify({ headers })": { payload, headers: vector.headers },
    // The value alone, as a caller that reads the one header itself passes it.
    "verify({ signature }), no timestamp": {
      payload,
      signature: headerOf(vector.headers, "kallima-signature"),
    },
  }),
};

const codeOf = (error: unknown): string => {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === "string" ? code : String(error);
};

const eventMatches = (event: VerifiedKallimaEvent | undefined, vector: TestVector): string =>
  event?.type === vector.event_type && event?.id === vector.event_id
    ? "ok"
    : `ok but event ${event?.type}/${event?.id}`;

/** What verify() came to, as a vector's `expect` string (or a description of what went wrong). */
function outcomeOf(promise: Promise<VerifiedKallimaEvent>, vector: TestVector): Promise<string> {
  return promise.then(
    (event) => eventMatches(event, vector),
    (error: unknown) => codeOf(error),
  );
}

async function checkList(list: ListName, vectors: readonly TestVector[]): Promise<ListReport> {
  const failures: string[] = [];
  for (const vector of vectors) {
    const options = {
      secret: vector.secrets,
      now: () => vector.now * 1000,
      ...(vector.tolerance_seconds ? { toleranceSeconds: vector.tolerance_seconds } : {}),
    };
    const body = bytesOf(vector.body_b64);
    const verifier = new WebhookVerifier(options);
    const got: string[] = [];
    for (const [path, input] of Object.entries(VERIFY_INPUTS[list](vector, body))) {
      let outcome: string;
      try {
        outcome = await outcomeOf(verifier.verify(input), vector);
      } catch (error) {
        // verify() must reject, never throw: a throw is a failure of its own.
        outcome = `threw ${codeOf(error)}`;
      }
      if (outcome !== vector.expect) got.push(`${path} gave ${outcome}`);
    }
    const result = await createWebhookHandler({ ...options, onUnhandled: () => {} }).handle({
      headers: vector.headers,
      rawBody: body,
    });
    const handled =
      result.status === 200
        ? eventMatches(result.event, vector)
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
 * fails rather than passing with 0 cases (the shared loader already refuses such a file; this
 * guards the copy a runtime was handed).
 */
export async function checkVectors(file: Partial<VectorFile>): Promise<VectorsReport> {
  const lists: Partial<Record<ListName, ListReport>> = {};
  for (const list of LIST_NAMES) {
    const vectors = file[list];
    lists[list] =
      Array.isArray(vectors) && vectors.length > 0
        ? await checkList(list, vectors)
        : { total: 0, failures: [`${list}: no cases in the vectors file`] };
  }
  const engine = new WebhookVerifier({ secret: "whsec_engineProbe" }).engine;
  return { runtime: runtimeVersion(), engine, lists };
}
