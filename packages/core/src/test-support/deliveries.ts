// Every way a delivery can end, as scenarios shared by the delivery-record and OpenTelemetry
// tests: each builds a handler with the options under test and sends what makes that outcome.
import { expect } from "vitest";
import {
  createWebhookHandler,
  type IdempotencyStore,
  memoryStore,
  type WebhookHandler,
  type WebhookHandlerOptions,
  type WebhookResult,
} from "../index.js";
import type { DeliveryCode, DeliveryRecordOutcome } from "../observe.js";
import { jobCompletedEvent, signPayload } from "../testing.js";

export const SECRET = "whsec_observabilityTestSecret0000000000000";
export const OLD_SECRET = "whsec_observabilityOldSecret00000000000000";
export const FOREIGN_SECRET = "whsec_someoneElsesSecret000000000000000000";
/** Put in every body: it must never reach a span, a metric or a record. */
export const BODY_MARKER = "BODY_MARKER_must_never_be_exported_7f3c2a";

/** Everything signed in a scenario run, so that a test can look for any of it in what was exported. */
export const leaks = {
  secrets: [SECRET, OLD_SECRET, FOREIGN_SECRET] as string[],
  signatures: new Set<string>(),
  bodies: new Set<string>(),
};

const NOW_MS = 1_776_938_400_000;
const nowSeconds = () => Math.floor(NOW_MS / 1000);

export interface Sent {
  headers: Record<string, string>;
  rawBody: string | Uint8Array;
}

let counter = 0;
export function eventId(tag: string): string {
  counter += 1;
  return `evt_${tag}_${counter}`;
}

export async function signed(
  options: {
    id?: string;
    secret?: string;
    timestamp?: number | string;
    format?: "x-headers" | "kallima-signature";
    payload?: string | object;
  } = {},
): Promise<Sent> {
  const payload =
    options.payload ??
    jobCompletedEvent({
      id: options.id ?? eventId("completed"),
      data: { id: "job_1", status: "completed", result_url: BODY_MARKER },
    });
  const result = await signPayload({
    secret: options.secret ?? SECRET,
    payload,
    timestamp: options.timestamp ?? nowSeconds() - 2,
    format: options.format ?? "x-headers",
  });
  leaks.signatures.add(result.signature);
  leaks.bodies.add(
    typeof result.body === "string" ? result.body : new TextDecoder().decode(result.body),
  );
  return { headers: { ...result.headers }, rawBody: result.body };
}

export interface Expected {
  outcome: DeliveryRecordOutcome;
  status?: number;
  code?: DeliveryCode;
  /** The event's id is known (verified). */
  verified: boolean;
  /** Steps that ran, in order of start. */
  steps: Array<"verify" | "claim" | "handler">;
  /** The receiver-side attempt number, when verified (default 1). */
  attempt?: number;
}

export interface Scenario {
  name: string;
  expected: Expected;
  /**
   * Runs the scenario with these extra options; resolves with the result of the delivery under
   * test, which is the last one the extra options observe.
   */
  run(extra: Partial<WebhookHandlerOptions>): Promise<WebhookResult>;
}

function make(options: Partial<WebhookHandlerOptions>, extra: Partial<WebhookHandlerOptions>) {
  return createWebhookHandler({
    secret: SECRET,
    logger: false,
    now: () => NOW_MS,
    ...options,
    ...extra,
  } as WebhookHandlerOptions);
}

const handled = (
  extra: Partial<WebhookHandlerOptions>,
  options: Partial<WebhookHandlerOptions> = {},
) => make({ on: { "job.completed": () => {} }, ...options }, extra);

const rejected = (
  name: string,
  code: DeliveryCode,
  status: number,
  send: (handler: WebhookHandler) => Promise<WebhookResult>,
  options: Partial<WebhookHandlerOptions> = {},
  steps: Expected["steps"] = ["verify"],
): Scenario => ({
  name,
  expected: { outcome: "rejected", status, code, verified: false, steps },
  run: (extra) => send(handled(extra, options)),
});

const downStore: IdempotencyStore = {
  claim: () => {
    throw new Error("connection refused");
  },
  markDone: () => {},
  release: () => {},
  extend: () => true,
};

export const SCENARIOS: Scenario[] = [
  {
    name: "handled",
    expected: {
      outcome: "handled",
      status: 200,
      verified: true,
      steps: ["verify", "claim", "handler"],
    },
    run: async (extra) => handled(extra).handle(await signed()),
  },
  {
    name: "duplicate",
    expected: {
      outcome: "duplicate",
      status: 200,
      verified: true,
      steps: ["verify", "claim"],
      attempt: 2,
    },
    run: async (extra) => {
      // The same handler: the repeat is its second delivery of the id (attempt 2).
      const handler = handled(extra);
      const id = eventId("dup");
      await handler.handle(await signed({ id }));
      return handler.handle(await signed({ id, format: "kallima-signature" }));
    },
  },
  {
    name: "in_progress",
    expected: {
      outcome: "in_progress",
      status: 409,
      code: "event_in_progress",
      verified: true,
      steps: ["verify", "claim"],
    },
    run: async (extra) => {
      const store = memoryStore();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const id = eventId("busy");
      const first = handled({}, { idempotency: { store }, on: { "job.completed": () => gate } });
      const running = first.handle(await signed({ id }));
      const second = await handled(extra, { idempotency: { store } }).handle(await signed({ id }));
      release();
      await running;
      return second;
    },
  },
  {
    name: "unhandled (no handler)",
    expected: { outcome: "unhandled", status: 200, verified: true, steps: ["verify"] },
    run: async (extra) => make({}, extra).handle(await signed()),
  },
  {
    name: "unhandled (onUnhandled)",
    expected: {
      outcome: "unhandled",
      status: 200,
      verified: true,
      steps: ["verify", "claim", "handler"],
    },
    run: async (extra) => make({ onUnhandled: () => {} }, extra).handle(await signed()),
  },
  {
    name: "handler_failed",
    expected: {
      outcome: "handler_failed",
      status: 500,
      code: "handler_failed",
      verified: true,
      steps: ["verify", "claim", "handler"],
    },
    run: async (extra) =>
      make(
        {
          on: {
            "job.completed": async () => {
              throw new Error(`database is down ${BODY_MARKER}`);
            },
          },
        },
        extra,
      ).handle(await signed()),
  },
  {
    name: "store_unavailable",
    expected: {
      outcome: "store_unavailable",
      status: 503,
      code: "idempotency_store_unavailable",
      verified: true,
      steps: ["verify", "claim"],
    },
    run: async (extra) =>
      handled(extra, { idempotency: { store: downStore } }).handle(await signed()),
  },
  {
    name: "handler_timeout",
    expected: {
      outcome: "handler_timeout",
      status: 503,
      code: "handler_timeout",
      verified: true,
      steps: ["verify", "claim", "handler"],
    },
    run: async (extra) => {
      let finish!: () => void;
      const handler = make(
        {
          deadlineMs: 20,
          on: {
            "job.completed": () =>
              new Promise<void>((resolve) => {
                finish = resolve;
              }),
          },
        },
        extra,
      );
      const result = await handler.handle(await signed());
      finish();
      // Let the background handler settle (its span ends, its claim is marked done).
      await new Promise((resolve) => setTimeout(resolve, 10));
      return result;
    },
  },
  rejected("missing_signature", "missing_signature", 400, async (handler) => {
    const { headers, rawBody } = await signed();
    return handler.handle({ headers: { "content-type": headers["content-type"]! }, rawBody });
  }),
  rejected("missing_timestamp", "missing_timestamp", 400, async (handler) => {
    const { headers, rawBody } = await signed();
    const { "x-kallima-timestamp": _dropped, ...rest } = headers;
    return handler.handle({ headers: rest, rawBody });
  }),
  rejected("invalid_timestamp", "invalid_timestamp", 400, async (handler) =>
    handler.handle(await signed({ timestamp: "17769384OO" })),
  ),
  rejected("timestamp_too_old", "timestamp_too_old", 401, async (handler) =>
    handler.handle(await signed({ timestamp: nowSeconds() - 3600 })),
  ),
  rejected("timestamp_in_future", "timestamp_in_future", 401, async (handler) =>
    handler.handle(await signed({ timestamp: nowSeconds() + 3600, format: "kallima-signature" })),
  ),
  rejected("invalid_signature", "invalid_signature", 401, async (handler) =>
    handler.handle(await signed({ secret: FOREIGN_SECRET })),
  ),
  rejected("invalid_payload", "invalid_payload", 400, async (handler) =>
    handler.handle(await signed({ payload: `not json ${BODY_MARKER}` })),
  ),
  rejected(
    "payload_too_large",
    "payload_too_large",
    413,
    async (handler) => handler.handle(await signed()),
    { maxBodyBytes: 64 },
    // A body given whole is measured where it is verified; a streamed one, by its reader before.
    ["verify"],
  ),
  rejected(
    "request_aborted",
    "request_aborted",
    400,
    async (handler) =>
      handler.handle({
        headers: (await signed()).headers,
        rawBody: Promise.reject(new Error(`socket hang up ${BODY_MARKER}`)),
      }),
    {},
    [],
  ),
  rejected(
    "method_not_allowed",
    "method_not_allowed",
    405,
    async (handler) => handler.handle({ method: "GET", ...(await signed()) }),
    {},
    [],
  ),
  rejected(
    "raw_body_unavailable",
    "raw_body_unavailable",
    500,
    async (handler) => handler.handle({ headers: (await signed()).headers, rawBody: undefined }),
    {},
    [],
  ),
  rejected(
    "invalid_secret (from a secret function)",
    "invalid_secret",
    500,
    async (handler) => handler.handle(await signed()),
    { secret: () => "not a secret" },
  ),
];

/** Advances the fake clock's origin in records: the scenarios sign 2 s before `now`. */
export const SIGNED_AGE_SECONDS = 2;
export const SCENARIO_NOW_MS = NOW_MS;

/** Fails the test on any secret, signature, body or body content in what was exported. */
export function expectNoLeaks(exported: unknown): void {
  const text = JSON.stringify(exported);
  expect(text).not.toContain(BODY_MARKER);
  for (const secret of leaks.secrets) expect(text).not.toContain(secret);
  // A secret's key part without its prefix, too.
  for (const secret of leaks.secrets) expect(text).not.toContain(secret.slice("whsec_".length));
  expect(leaks.signatures.size).toBeGreaterThan(0);
  for (const signature of leaks.signatures) expect(text.toLowerCase()).not.toContain(signature);
  for (const body of leaks.bodies) expect(text).not.toContain(body);
}
