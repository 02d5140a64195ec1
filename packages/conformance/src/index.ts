import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { registerContractCases } from "./contract.js";
import { registerQueueModeCases } from "./queue-mode.js";
import {
  CONFORMANCE_SECRET,
  type ConformanceRequest,
  OTHER_SECRET,
  signDelivery,
} from "./signer.js";

export { expectExportParity } from "./contract.js";
export type { ConformanceQueue, ConformanceQueuedDelivery } from "./queue-mode.js";
export {
  CONFORMANCE_SECRET,
  type ConformanceRequest,
  type DeliveryFormat,
  hmacHex,
  OTHER_SECRET,
  type SignOptions,
  signDelivery,
} from "./signer.js";

/** The event shape handlers receive, as far as this suite relies on it. */
export interface ConformanceEvent {
  id: string;
  type: string;
  data: unknown;
}

type Handler = (event: ConformanceEvent, context: unknown) => unknown;

/** One secret, or several during a rotation. */
export type ConformanceSecret = string | string[];

/** A logger as the core takes it. */
export interface ConformanceLogger {
  error(message: string, details: { code: string; status: number }): void;
  warn(message: string, details: { code: string; status: number }): void;
}

/** Options passed to the adapter under test: a subset of the core's handler options. */
export interface ConformanceOptions {
  secret:
    | ConformanceSecret
    | ((context: unknown) => ConformanceSecret | Promise<ConformanceSecret>);
  on: { "job.completed"?: Handler; "job.failed"?: Handler; "webhook.test"?: Handler };
  maxBodyBytes?: number;
  idempotency?: { store: never };
  logger?: ConformanceLogger | false;
  onDelivery?: (record: ConformanceDeliveryRecord) => unknown;
  instrumentation?: ConformanceInstrumentation;
  /**
   * Queue mode (the core's `queue` option): a {@link ConformanceQueue}, typed `never` so that these
   * options stay assignable to every adapter's own option type.
   */
  queue?: never;
}

/** A delivery record as `onDelivery` gets it, as far as this suite relies on it. */
export interface ConformanceDeliveryRecord {
  time: string;
  eventId?: string;
  eventType?: string;
  outcome: string;
  status?: number;
  code?: string;
  durationMs: number;
  secretIndex?: number;
  format?: string;
  ageSeconds?: number;
  attempt?: number;
}

/** The core's instrumentation seam, as far as this suite relies on it. */
export interface ConformanceInstrumentation {
  startDelivery(start: { mode: string }): {
    step<T>(step: { name: string }, run: () => T): T;
    end(record: ConformanceDeliveryRecord): void;
  };
}

/** What the adapter answered. Header names in lowercase. */
export interface ConformanceResponse {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
}

/** Reads a Fetch `Response` into the shape the suite checks, for adapters answering with one. */
export async function fromFetchResponse(response: Response): Promise<ConformanceResponse> {
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    body: await response.text(),
  };
}

export interface ConformanceApp {
  send(request: ConformanceRequest): Promise<ConformanceResponse>;
  close?(): unknown;
}

export interface ConformanceTarget {
  /** Mounts the adapter with these options in a fresh app. */
  setup(options: ConformanceOptions): ConformanceApp | Promise<ConformanceApp>;
  /** A fresh idempotency store per app, to run the idempotency cases against it (default: the adapter's own). */
  store?: () => unknown;
  /**
   * The framework parses JSON bodies before any adapter code runs and answers a malformed one
   * itself (NestJS's body parser, needed for its `rawBody`). The non-JSON case then checks the
   * 400 and that no handler ran, not the error code.
   */
  frameworkRejectsMalformedJson?: boolean;
  /**
   * What the adapter does with a signed request of another method: `"405"` (the core's answer,
   * `Allow: POST`), or `"passes-on"` (it leaves the request to the framework's other routes,
   * which answer it: typically 404). Either way no handler runs. Default `"405"`.
   */
  otherMethods?: "405" | "passes-on";
  /** The adapter contract's cases (context, secrets, logging, content types, verify-only). */
  contract?: ContractTarget;
}

/** What the adapter contract's cases need from an adapter besides `setup`. */
export interface ContractTarget {
  /** True when a handler's second argument is the context this adapter promises (its README says which). */
  isFrameworkContext(context: unknown): boolean;
  /**
   * Mounts the adapter's verify-only helper with these options in front of a route of the app's
   * own that answers 200 `{ "verified": <event id> }`. Throws (or rejects) as the helper does.
   */
  setupVerifyOnly(options: Record<string, unknown>): ConformanceApp | Promise<ConformanceApp>;
}

export function eventBody(type: string, data: unknown, id = `evt_${randomUUID()}`): string {
  return JSON.stringify({
    id,
    type,
    api_version: "2026-04-23",
    created_at: new Date().toISOString(),
    data,
  });
}

export const completed = (id?: string) =>
  eventBody("job.completed", { id: "job_1", status: "completed" }, id);

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

export function errorCode(response: ConformanceResponse): unknown {
  return (JSON.parse(response.body) as { error?: { code?: unknown } }).error?.code;
}

/**
 * Registers the shared adapter behaviour suite with vitest.
 *
 * @example
 * ```ts
 * runConformanceSuite("hono", { setup: (options) => honoApp(options) });
 * ```
 */
export function runConformanceSuite(name: string, target: ConformanceTarget): void {
  // Most adapters log failures by default; keep the suite's output readable.
  const quiet: ConformanceLogger = { error() {}, warn() {} };
  describe(`conformance: ${name}`, () => {
    const open: ConformanceApp[] = [];
    afterEach(async () => {
      for (const app of open.splice(0)) await app.close?.();
    });

    async function mount(on: ConformanceOptions["on"], extra: Partial<ConformanceOptions> = {}) {
      const store = target.store?.();
      const app = await target.setup({
        secret: CONFORMANCE_SECRET,
        on,
        logger: quiet,
        ...(store ? { idempotency: { store: store as never } } : {}),
        ...extra,
      });
      open.push(app);
      return app;
    }

    it("accepts a valid job.completed and runs its handler once with the event", async () => {
      const seen: ConformanceEvent[] = [];
      const app = await mount({ "job.completed": (event) => void seen.push(event) });
      const response = await app.send(signDelivery(completed("evt_valid_1")));
      expect(response.status).toBe(200);
      expect(JSON.parse(response.body)).toMatchObject({ received: true });
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({
        id: "evt_valid_1",
        type: "job.completed",
        data: { id: "job_1" },
      });
    });

    it("accepts the Kallima-Signature: t=…,v1=… format, and dedupes across both formats", async () => {
      const seen: string[] = [];
      const app = await mount({ "job.completed": (event) => void seen.push(event.id) });
      const body = completed(`evt_combined_${randomUUID()}`);
      const first = await app.send(signDelivery(body, { format: "kallima-signature" }));
      expect(first.status).toBe(200);
      expect(JSON.parse(first.body)).toMatchObject({ received: true, outcome: "handled" });
      const again = await app.send(signDelivery(body));
      expect(JSON.parse(again.body)).toMatchObject({ received: true, outcome: "duplicate" });
      expect(seen).toHaveLength(1);
    });

    it("verifies Kallima-Signature alone when present, ignoring the X- headers", async () => {
      let runs = 0;
      const app = await mount({ "job.completed": () => void runs++ });
      const body = completed();
      const valid = signDelivery(body);
      const wrong = signDelivery(body, { secret: OTHER_SECRET, format: "kallima-signature" });
      const response = await app.send({
        body: valid.body,
        headers: { ...valid.headers, ...wrong.headers },
      });
      expect([response.status, errorCode(response)]).toEqual([401, "invalid_signature"]);
      const right = signDelivery(body, { format: "kallima-signature" });
      const forged = { "x-kallima-signature": "0".repeat(64), "x-kallima-timestamp": "1" };
      const accepted = await app.send({
        body: right.body,
        headers: { ...right.headers, ...forged },
      });
      expect(accepted.status).toBe(200);
      expect(runs).toBe(1);
    });

    it.each([
      ["a tampered body", "tampered", 401, "invalid_signature"],
      ["a stale t", "stale", 401, "timestamp_too_old"],
      ["no t item", "no-t", 400, "missing_timestamp"],
      ["no v1 item", "no-v1", 400, "missing_signature"],
    ] as const)(
      "rejects a Kallima-Signature delivery with %s",
      async (_label, defect, status, code) => {
        let runs = 0;
        const app = await mount({ "job.completed": () => void runs++ });
        const stale = Math.floor(Date.now() / 1000) - 600;
        const delivery = signDelivery(completed(), {
          format: "kallima-signature",
          ...(defect === "stale" ? { timestamp: stale } : {}),
        });
        const header = delivery.headers["kallima-signature"]!;
        const items = header.split(",");
        const headerFor: Record<typeof defect, string> = {
          tampered: header,
          stale: header,
          "no-t": items.filter((item) => !item.startsWith("t=")).join(","),
          "no-v1": items.filter((item) => !item.startsWith("v1=")).join(","),
        };
        const body =
          defect === "tampered"
            ? new TextEncoder().encode(
                new TextDecoder().decode(delivery.body).replace("job_1", "job_2"),
              )
            : delivery.body;
        const response = await app.send({
          body,
          headers: { ...delivery.headers, "kallima-signature": headerFor[defect] },
        });
        expect([response.status, errorCode(response)]).toEqual([status, code]);
        expect(runs).toBe(0);
      },
    );

    it("accepts job.failed and webhook.test with their own handlers", async () => {
      const seen: string[] = [];
      const app = await mount({
        "job.failed": (event) => void seen.push(event.type),
        "webhook.test": (event) => void seen.push(event.type),
      });
      const failed = eventBody("job.failed", {
        id: "job_2",
        status: "failed",
        error_message: "GPU ran out of memory",
      });
      expect((await app.send(signDelivery(failed))).status).toBe(200);
      expect(
        (await app.send(signDelivery(eventBody("webhook.test", { webhook_id: "wh_1" })))).status,
      ).toBe(200);
      expect(seen).toEqual(["job.failed", "webhook.test"]);
    });

    it("rejects a tampered body with 401 invalid_signature and runs nothing", async () => {
      let runs = 0;
      const app = await mount({ "job.completed": () => void runs++ });
      const delivery = signDelivery(completed());
      const tampered = new TextEncoder().encode(
        new TextDecoder().decode(delivery.body).replace("job_1", "job_2"),
      );
      const response = await app.send({ ...delivery, body: tampered });
      expect(response.status).toBe(401);
      expect(errorCode(response)).toBe("invalid_signature");
      expect(runs).toBe(0);
    });

    it("rejects a delivery signed with another secret", async () => {
      const app = await mount({ "job.completed": () => {} });
      const response = await app.send(signDelivery(completed(), { secret: OTHER_SECRET }));
      expect(response.status).toBe(401);
      expect(errorCode(response)).toBe("invalid_signature");
    });

    it("rejects a stale timestamp with 401 timestamp_too_old", async () => {
      const app = await mount({ "job.completed": () => {} });
      const response = await app.send(
        signDelivery(completed(), { timestamp: Math.floor(Date.now() / 1000) - 600 }),
      );
      expect(response.status).toBe(401);
      expect(errorCode(response)).toBe("timestamp_too_old");
    });

    it("rejects a future timestamp with 401 timestamp_in_future", async () => {
      const app = await mount({ "job.completed": () => {} });
      const response = await app.send(
        signDelivery(completed(), { timestamp: Math.floor(Date.now() / 1000) + 600 }),
      );
      expect(response.status).toBe(401);
      expect(errorCode(response)).toBe("timestamp_in_future");
    });

    it("answers 400 when a header is missing", async () => {
      const app = await mount({ "job.completed": () => {} });
      const delivery = signDelivery(completed());
      const { "x-kallima-signature": _signature, ...withoutSignature } = delivery.headers;
      const { "x-kallima-timestamp": _timestamp, ...withoutTimestamp } = delivery.headers;
      const noSignature = await app.send({ ...delivery, headers: withoutSignature });
      const noTimestamp = await app.send({ ...delivery, headers: withoutTimestamp });
      expect([noSignature.status, errorCode(noSignature)]).toEqual([400, "missing_signature"]);
      expect([noTimestamp.status, errorCode(noTimestamp)]).toEqual([400, "missing_timestamp"]);
    });

    it("answers 400 invalid_payload for a signed body that is not JSON", async () => {
      let runs = 0;
      const app = await mount({ "job.completed": () => void runs++ });
      const response = await app.send(signDelivery("not json at all"));
      expect(response.status).toBe(400);
      if (!target.frameworkRejectsMalformedJson) {
        expect(errorCode(response)).toBe("invalid_payload");
      }
      expect(runs).toBe(0);
    });

    it("acknowledges an authentic event of an unknown type with 200", async () => {
      const app = await mount({ "job.completed": () => {} });
      const response = await app.send(
        signDelivery(eventBody("humanization.completed", { id: "hum_1" })),
      );
      expect(response.status).toBe(200);
      expect(JSON.parse(response.body)).toMatchObject({ received: true });
    });

    it("answers 413 for a body over maxBodyBytes, without running the handler", async () => {
      let runs = 0;
      const app = await mount({ "job.completed": () => void runs++ }, { maxBodyBytes: 1024 });
      const big = eventBody("job.completed", {
        id: "job_1",
        status: "completed",
        padding: "x".repeat(4096),
      });
      const response = await app.send(signDelivery(big));
      expect(response.status).toBe(413);
      expect(errorCode(response)).toBe("payload_too_large");
      expect(runs).toBe(0);
    });

    it("runs the handler once for a repeated delivery and answers 200 both times", async () => {
      let runs = 0;
      const app = await mount({ "job.completed": () => void runs++ });
      const body = completed(`evt_dup_${randomUUID()}`);
      const first = await app.send(signDelivery(body));
      const second = await app.send(signDelivery(body));
      expect([first.status, second.status]).toEqual([200, 200]);
      expect(JSON.parse(second.body)).toMatchObject({ received: true, outcome: "duplicate" });
      expect(runs).toBe(1);
    });

    it("runs the handler once for concurrent duplicates; the others get 409 with Retry-After", async () => {
      let runs = 0;
      const gate = deferred();
      const started = deferred();
      const app = await mount({
        "job.completed": async () => {
          runs++;
          started.resolve();
          await gate.promise;
        },
      });
      const body = completed(`evt_concurrent_${randomUUID()}`);
      const first = app.send(signDelivery(body));
      await started.promise;
      const others = await Promise.all([1, 2, 3, 4].map(() => app.send(signDelivery(body))));
      gate.resolve();
      expect((await first).status).toBe(200);
      for (const response of others) {
        expect(response.status).toBe(409);
        expect(Number(response.headers["retry-after"])).toBeGreaterThan(0);
      }
      expect(runs).toBe(1);
      const later = await app.send(signDelivery(body));
      expect(later.status).toBe(200);
      expect(runs).toBe(1);
    });

    it("answers 500 when the handler throws, and runs it again on the retry", async () => {
      let runs = 0;
      const app = await mount({
        "job.completed": () => {
          runs++;
          if (runs === 1) throw new Error("database is down: secret-ish detail");
        },
      });
      const body = completed(`evt_retry_${randomUUID()}`);
      const failed = await app.send(signDelivery(body));
      expect(failed.status).toBe(500);
      expect(errorCode(failed)).toBe("handler_failed");
      expect(failed.body).not.toContain("secret-ish detail");
      const retried = await app.send(signDelivery(body));
      expect(retried.status).toBe(200);
      expect(runs).toBe(2);
    });

    it("answers 500 when the handler rejects with a non-Error value", async () => {
      const app = await mount({ "job.completed": () => Promise.reject("plain string") });
      const response = await app.send(signDelivery(completed()));
      expect(response.status).toBe(500);
      expect(errorCode(response)).toBe("handler_failed");
    });

    it.each(["PUT", "PATCH", "DELETE"])("never runs a handler for a signed %s", async (method) => {
      let runs = 0;
      const app = await mount({ "job.completed": () => void runs++ });
      const response = await app.send({ ...signDelivery(completed()), method });
      expect(runs).toBe(0);
      if ((target.otherMethods ?? "405") === "405") {
        expect(response.status).toBe(405);
        expect(response.headers.allow).toBe("POST");
        expect(errorCode(response)).toBe("method_not_allowed");
      } else {
        expect(response.status).toBeGreaterThanOrEqual(400);
      }
    });

    if (target.contract) registerContractCases(target, target.contract, mount, open);

    it("onDelivery: one record per delivery, with what is known of it, never the secret or body", async () => {
      const records: ConformanceDeliveryRecord[] = [];
      const app = await mount(
        { "job.completed": () => {} },
        { onDelivery: (record) => void records.push(record) },
      );
      const id = `evt_record_${randomUUID()}`;
      const body = completed(id);
      const first = signDelivery(body);
      const second = signDelivery(body, { format: "kallima-signature" });
      const forged = signDelivery(body, { secret: OTHER_SECRET });
      expect((await app.send(first)).status).toBe(200);
      expect((await app.send(second)).status).toBe(200);
      expect((await app.send(forged)).status).toBe(401);
      // An adapter may answer before its promise chain calls back: give it a moment.
      for (let wait = 0; records.length < 3 && wait < 50; wait++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(records).toEqual([
        expect.objectContaining({
          eventId: id,
          eventType: "job.completed",
          outcome: "handled",
          status: 200,
          secretIndex: 0,
          format: "x-headers",
          attempt: 1,
        }),
        expect.objectContaining({
          eventId: id,
          outcome: "duplicate",
          status: 200,
          format: "kallima-signature",
          attempt: 2,
        }),
        expect.objectContaining({ outcome: "rejected", status: 401, code: "invalid_signature" }),
      ]);
      expect(records[2]!.eventId).toBeUndefined();
      for (const record of records) {
        expect(typeof record.time).toBe("string");
        expect(record.durationMs).toBeGreaterThanOrEqual(0);
      }
      const text = JSON.stringify(records);
      const signatures = [first, second, forged].flatMap((delivery) =>
        Object.values(delivery.headers),
      );
      for (const leak of [CONFORMANCE_SECRET, OTHER_SECRET, body, '"job_1"']) {
        expect(text).not.toContain(leak);
      }
      for (const header of signatures.filter((value) => value !== "application/json")) {
        for (const hex of header.match(/[0-9a-f]{64}/g) ?? []) expect(text).not.toContain(hex);
      }
    });

    it("instrumentation: observes each delivery's steps (verify, claim, handler) and its end", async () => {
      const seen: string[] = [];
      const instrumentation: ConformanceInstrumentation = {
        startDelivery: ({ mode }) => {
          seen.push(`start ${mode}`);
          return {
            step: (step, run) => {
              seen.push(step.name);
              return run();
            },
            end: (record) => void seen.push(`end ${record.outcome} ${record.status}`),
          };
        },
      };
      const app = await mount({ "job.completed": () => {} }, { instrumentation });
      expect((await app.send(signDelivery(completed()))).status).toBe(200);
      for (let wait = 0; !seen.includes("end handled 200") && wait < 50; wait++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(seen).toEqual(["start handle", "verify", "claim", "handler", "end handled 200"]);
    });

    registerQueueModeCases(mount);

    it("never echoes the secret or the body in an error answer", async () => {
      const app = await mount({ "job.completed": () => {} });
      const body = completed("evt_do_not_echo_me");
      const responses = [
        await app.send(signDelivery(body, { secret: OTHER_SECRET })),
        await app.send(signDelivery(body, { timestamp: 1 })),
        await app.send({ ...signDelivery(body), headers: { "content-type": "application/json" } }),
      ];
      for (const response of responses) {
        expect(response.status).toBeGreaterThanOrEqual(400);
        expect(response.body).not.toContain(CONFORMANCE_SECRET);
        expect(response.body).not.toContain(OTHER_SECRET);
        expect(response.body).not.toContain("evt_do_not_echo_me");
      }
    });
  });
}
