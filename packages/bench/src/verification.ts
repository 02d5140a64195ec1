import { randomBytes } from "node:crypto";
import {
  createWebhookHandler,
  type DeliveryRecord,
  memoryStore,
  type WebhookHandlerOptions,
  WebhookVerifier,
} from "@kallima/webhooks";
import { sign as octokitSign, verify as octokitVerify } from "@octokit/webhooks-methods";
import { Webhook as StandardWebhook } from "standardwebhooks";
import Stripe from "stripe";
import { Webhook as SvixWebhook } from "svix";
import { type Case, type Measured, type MeasureSettings, measure, median } from "./measure.js";
import { otelNoopInstrumentation } from "./otel-noop.js";
import {
  floorIdRecorder,
  floorVerify,
  KALLIMA_SECRET,
  type KallimaDelivery,
  kallimaDelivery,
  kallimaSignatureHeader,
  nowSeconds,
  SIZES,
} from "./payload.js";

export const FLOOR = "floor (node:crypto, hand-written)";
export const FLOOR_AWAITED = "floor, awaited (diagnostic)";
// The X-Kallima-* rows keep the names of the runs before the second format, so that a row of
// an older benchmarks.json is the same path as the row of that name today.
export const CORE_VERIFY = "@kallima/webhooks WebhookVerifier.verify";
export const CORE_VERIFY_COMBINED = "@kallima/webhooks WebhookVerifier.verify, Kallima-Signature";
/** The same verification without the promise, on Node's synchronous engine. */
export const CORE_VERIFY_SYNC = "@kallima/webhooks WebhookVerifier.verifySync";
/**
 * Part 2's floor: the verification floor, and the event id recorded in a `Map` bounded like the
 * store (oldest dropped), a repeat refused: the least a hand-written receiver that dedupes does.
 */
export const FLOOR_RECORDING = "floor + id recorded in a Map (hand-written)";
export const CORE_HANDLE = "@kallima/webhooks handle()";
export const CORE_HANDLE_COMBINED = "@kallima/webhooks handle(), Kallima-Signature";
// The same handle() observed: a record per delivery to onDelivery, or OpenTelemetry through
// the SDK with exporters that drop everything. The plain row is the absent case.
export const CORE_HANDLE_ON_DELIVERY = "@kallima/webhooks handle(), onDelivery";
export const CORE_HANDLE_OTEL = "@kallima/webhooks handle(), OTel no-op";

/** Each observed row, read against the plain handle() row of the same run. */
export const OBSERVED_ROWS = [CORE_HANDLE_ON_DELIVERY, CORE_HANDLE_OTEL] as const;

/** Each `Kallima-Signature` row and the X-Kallima-* row it is read against. */
export const FORMAT_PAIRS = [
  { part: "verification", pair: CORE_VERIFY, combined: CORE_VERIFY_COMBINED },
  { part: "handle", pair: CORE_HANDLE, combined: CORE_HANDLE_COMBINED },
] as const;

export interface SizeResult {
  size: string;
  bytes: number;
  rows: (Measured & { ratioToFloor: number })[];
}

/** Samples per batch: enough that a sample of small bodies is well above timer resolution. */
function batchFor(bytes: number): number {
  if (bytes <= 256) return 32;
  if (bytes <= 4096) return 8;
  return 1;
}

function expectId(id: string): (result: unknown) => void {
  return (result) => {
    if ((result as { id?: unknown } | null)?.id !== id) {
      throw new Error(`Verification did not return the event ${id}.`);
    }
  };
}

/**
 * `a` against `b` as the median of per-round ratios: two cases timed in the same round saw the
 * same load, which a ratio of their medians would not guarantee.
 */
export function pairedRatio(a: Measured, b: Measured): number {
  return median(a.rounds.map((ops, round) => ops / b.rounds[round]!));
}

/** Each row's ratio to the floor, paired by round (see {@link pairedRatio}). */
function withRatios(rows: Measured[], floorName: string = FLOOR): SizeResult["rows"] {
  const floor = rows.find((row) => row.name === floorName);
  if (!floor) throw new Error("No floor row.");
  return rows.map((row) => ({ ...row, ratioToFloor: pairedRatio(row, floor) }));
}

function floorCase(delivery: KallimaDelivery): Case {
  const { body, timestamp, signature, id } = delivery;
  return {
    name: FLOOR,
    run: () => floorVerify(KALLIMA_SECRET, timestamp, signature, body),
    check: expectId(id),
  };
}

/** Each peer verifies a signature made with its own scheme over the same body bytes. */
async function peerCases(delivery: KallimaDelivery): Promise<Case[]> {
  const { body, id } = delivery;
  const text = body.toString("utf8");
  const check = expectId(id);
  const cases: Case[] = [];

  const svixSecret = `whsec_${randomBytes(24).toString("base64")}`;
  const svix = new SvixWebhook(svixSecret);
  const svixHeaders = {
    "svix-id": "msg_bench",
    "svix-timestamp": String(nowSeconds()),
    "svix-signature": svix.sign("msg_bench", new Date(), body),
  };
  cases.push({ name: "svix", run: () => svix.verify(body, svixHeaders), check });

  const standard = new StandardWebhook(randomBytes(24).toString("base64"));
  const standardHeaders = {
    "webhook-id": "msg_bench",
    "webhook-timestamp": String(nowSeconds()),
    "webhook-signature": standard.sign("msg_bench", new Date(), body),
  };
  cases.push({
    name: "standardwebhooks",
    run: () => standard.verify(body, standardHeaders),
    check,
  });

  const stripe = new Stripe("sk_test_bench_not_used_for_requests");
  const stripeSecret = `whsec_${randomBytes(24).toString("hex")}`;
  const stripeHeader = stripe.webhooks.generateTestHeaderString({
    payload: text,
    secret: stripeSecret,
    timestamp: nowSeconds(),
  });
  cases.push({
    name: "stripe constructEvent",
    run: () => stripe.webhooks.constructEvent(body, stripeHeader, stripeSecret),
    check,
  });
  cases.push({
    name: "stripe constructEventAsync",
    run: () => stripe.webhooks.constructEventAsync(body, stripeHeader, stripeSecret),
    check,
    async: true,
  });

  // Octokit takes a string and only says yes or no: the decode and JSON.parse a caller then
  // needs are part of the row, as they are for every other row.
  const octokitSecret = randomBytes(24).toString("hex");
  const octokitSignature = await octokitSign(octokitSecret, text);
  let decoded = "";
  cases.push({
    name: "@octokit/webhooks-methods verify",
    run: () => {
      decoded = body.toString("utf8");
      return octokitVerify(octokitSecret, decoded, octokitSignature);
    },
    check: (ok) => {
      if (ok !== true) throw new Error("@octokit/webhooks-methods rejected its own signature.");
      check(JSON.parse(decoded));
    },
    async: true,
  });
  return cases;
}

/**
 * `verify()` given the same delivery in each header format, by value as a caller that reads the
 * header itself passes it: the rows differ only in which header is parsed.
 */
function coreVerifyCases(delivery: KallimaDelivery): Case[] {
  const { body, timestamp, signature, id } = delivery;
  const verifier = new WebhookVerifier({ secret: KALLIMA_SECRET });
  if (verifier.engine !== "node:crypto") {
    throw new Error(`The core resolved the ${verifier.engine} engine on Node.`);
  }
  const combined = kallimaSignatureHeader(delivery);
  return [
    {
      name: CORE_VERIFY,
      run: () => verifier.verify({ payload: body, signature, timestamp }),
      check: expectId(id),
      async: true,
    },
    {
      name: CORE_VERIFY_COMBINED,
      run: () => verifier.verify({ payload: body, signature: combined }),
      check: expectId(id),
      async: true,
    },
    {
      name: CORE_VERIFY_SYNC,
      run: () => verifier.verifySync({ payload: body, signature, timestamp }),
      check: expectId(id),
    },
  ];
}

/** Part 1: verification of one body per size, the core against the floor and the peers. */
export async function benchVerification(
  settings: MeasureSettings,
  log: (line: string) => void,
): Promise<SizeResult[]> {
  const results: SizeResult[] = [];
  for (const size of SIZES) {
    // Signed per size, just before timing, so that every timestamp is fresh for every verifier.
    const delivery = kallimaDelivery(size.bytes, `evt_bench_${size.bytes}`);
    const floor = floorCase(delivery);
    const cases: Case[] = [
      floor,
      { ...floor, name: FLOOR_AWAITED, run: async () => floor.run(), async: true },
      ...coreVerifyCases(delivery),
      ...(await peerCases(delivery)),
    ];
    const rows = withRatios(await measure(cases, batchFor(size.bytes), settings));
    results.push({ size: size.label, bytes: size.bytes, rows });
    log(`verification ${size.label}: ${summary(rows)}`);
  }
  return results;
}

/** Distinct deliveries per size for handle(): ids must not repeat within the store's bound. */
function poolSizeFor(bytes: number): number {
  if (bytes <= 4096) return 1024;
  if (bytes <= 65536) return 64;
  return 8;
}

/**
 * Part 2: handle() (verify, claim in the memory store, run an empty handler, markDone) against
 * the floor. Deliveries cycle through a pool twice the store's `maxEntries`, so that each id
 * was evicted before it comes back: every call takes the "claimed, handled" path, as with
 * fresh events on a full default store.
 */
export async function benchHandle(
  settings: MeasureSettings,
  log: (line: string) => void,
): Promise<SizeResult[]> {
  const results: SizeResult[] = [];
  for (const size of SIZES) {
    const poolSize = poolSizeFor(size.bytes);
    const pool = Array.from({ length: poolSize }, (_, i) =>
      kallimaDelivery(size.bytes, `evt_handle_${size.bytes}_${i}`),
    );
    const headerSets = {
      pair: (delivery: KallimaDelivery) => ({
        "content-type": "application/json",
        "x-kallima-signature": delivery.signature,
        "x-kallima-timestamp": delivery.timestamp,
      }),
      combined: (delivery: KallimaDelivery) => ({
        "content-type": "application/json",
        "kallima-signature": kallimaSignatureHeader(delivery),
      }),
    };
    const requestsOf = (headers: (delivery: KallimaDelivery) => Record<string, string>) =>
      pool.map((delivery) => ({
        id: delivery.id,
        body: delivery.body,
        headers: headers(delivery),
      }));
    let floorNext = 0;
    let expected = "";
    const floorRequests = requestsOf(headerSets.pair);
    // Bounded as the core's store is in this part, so that every id was dropped before it comes back.
    const recordFloorId = floorIdRecorder(poolSize / 2);
    const floor: Case = {
      name: FLOOR_RECORDING,
      run: () => {
        const request = floorRequests[floorNext++ % poolSize]!;
        expected = request.id;
        const event = floorVerify(
          KALLIMA_SECRET,
          request.headers["x-kallima-timestamp"]!,
          request.headers["x-kallima-signature"]!,
          request.body,
        );
        if (!recordFloorId(event.id)) throw new Error(`The floor saw ${event.id} twice.`);
        return event;
      },
      check: (event) => {
        if ((event as { id?: unknown }).id !== expected) {
          throw new Error(`The floor did not return the event ${expected}.`);
        }
      },
    };
    // One handler and one store per row, each cycling through the whole pool: a shared store
    // would hold the other row's recent ids and answer some calls "duplicate".
    let recorded = 0;
    let lastRecord: DeliveryRecord | undefined;
    const otel = otelNoopInstrumentation();
    const rowSpecs: {
      name: string;
      requests: ReturnType<typeof requestsOf>;
      handled: number;
      options?: Partial<WebhookHandlerOptions>;
    }[] = [
      { name: CORE_HANDLE, requests: requestsOf(headerSets.pair), handled: 0 },
      { name: CORE_HANDLE_COMBINED, requests: requestsOf(headerSets.combined), handled: 0 },
      {
        name: CORE_HANDLE_ON_DELIVERY,
        requests: requestsOf(headerSets.pair),
        handled: 0,
        options: {
          onDelivery: (record) => {
            recorded += 1;
            lastRecord = record;
          },
        },
      },
      {
        name: CORE_HANDLE_OTEL,
        requests: requestsOf(headerSets.pair),
        handled: 0,
        options: { instrumentation: otel.instrumentation },
      },
    ];
    const handlers = rowSpecs.map((row) => {
      const handler = createWebhookHandler({
        secret: KALLIMA_SECRET,
        idempotency: { store: memoryStore({ maxEntries: poolSize / 2 }) },
        ...row.options,
      }).on("job.completed", () => {
        row.handled += 1;
      });
      let next = 0;
      const handleCase: Case = {
        name: row.name,
        run: () => {
          const request = row.requests[next++ % poolSize]!;
          expected = request.id;
          return handler.handle({ headers: request.headers, rawBody: request.body });
        },
        check: (result) => {
          const { outcome, status, event } = result as {
            outcome: string;
            status: number;
            event?: { id: string };
          };
          if (outcome !== "handled" || status !== 200 || event?.id !== expected) {
            throw new Error(`${row.name} answered ${status} ${outcome} for ${expected}.`);
          }
        },
        async: true,
      };
      return { row, handleCase };
    });
    const rows = withRatios(
      await measure(
        [floor, ...handlers.map(({ handleCase }) => handleCase)],
        batchFor(size.bytes),
        settings,
      ),
      FLOOR_RECORDING,
    );
    await otel.shutdown();
    for (const { row } of handlers) {
      if (row.handled === 0) throw new Error(`The event handler of ${row.name} never ran.`);
    }
    if (recorded === 0 || lastRecord?.outcome !== "handled") {
      throw new Error(`onDelivery was not told of handled deliveries (${recorded} records).`);
    }
    // Four spans per handled delivery: delivery, verify, claim, handler.
    const traced = rowSpecs.find((row) => row.name === CORE_HANDLE_OTEL)!.handled * 4;
    if (otel.exportedSpans() !== traced) {
      log(`handle ${size.label}: the OTel row exported ${otel.exportedSpans()} of ${traced} spans`);
    }
    results.push({ size: size.label, bytes: size.bytes, rows });
    log(`handle ${size.label}: ${summary(rows)}`);
  }
  return results;
}

export function formatOps(opsPerSec: number): string {
  if (opsPerSec >= 100_000) return `${Math.round(opsPerSec / 1000)}k`;
  if (opsPerSec >= 1_000) return `${(opsPerSec / 1000).toFixed(1)}k`;
  return opsPerSec.toFixed(opsPerSec >= 100 ? 0 : 1);
}

function summary(rows: SizeResult["rows"]): string {
  const each = rows.map(
    (row) => `${row.name} ${formatOps(row.opsPerSec)}/s (${row.ratioToFloor.toFixed(2)}x)`,
  );
  for (const { pair, combined } of FORMAT_PAIRS) {
    const a = rows.find((row) => row.name === combined);
    const b = rows.find((row) => row.name === pair);
    if (a && b) each.push(`Kallima-Signature / X- pair ${pairedRatio(a, b).toFixed(3)}`);
  }
  const plain = rows.find((row) => row.name === CORE_HANDLE);
  for (const name of OBSERVED_ROWS) {
    const observed = rows.find((row) => row.name === name);
    if (plain && observed) {
      each.push(
        `${name.replace("@kallima/webhooks handle(), ", "")} / plain ${pairedRatio(observed, plain).toFixed(3)}`,
      );
    }
  }
  return each.join(", ");
}
