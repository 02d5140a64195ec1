import {
  buildEvent,
  createDelivery,
  type Delivery,
  type OutgoingEvent,
  type SignatureFormat,
  sendDelivery,
} from "@kallima/webhooks-cli";

/** Row labels of the deliveries signed with `Kallima-Signature` start with this. */
export const COMBINED_PREFIX = "t=,v1=";

/** One row of the table: a kind of delivery and what a correct endpoint does with it. */
export interface DeliveryCase {
  id: string;
  label: string;
  /** The header format it is signed in. */
  format: SignatureFormat;
  expectedStatus: number;
  /** Whether the handler must run for this delivery (for the duplicate: run again). */
  expectedRan: boolean;
  /** Shown in the "expected" column. */
  expectedText: string;
}

export const CASES: readonly DeliveryCase[] = [
  {
    id: "completed",
    label: "job.completed",
    format: "x-headers",
    expectedStatus: 200,
    expectedRan: true,
    expectedText: "200 ran",
  },
  {
    id: "failed",
    label: "job.failed",
    format: "x-headers",
    expectedStatus: 200,
    expectedRan: true,
    expectedText: "200 ran",
  },
  {
    id: "test",
    label: "webhook.test",
    format: "x-headers",
    expectedStatus: 200,
    expectedRan: true,
    expectedText: "200 ran",
  },
  {
    id: "unknown",
    label: "unknown future type",
    format: "x-headers",
    expectedStatus: 200,
    expectedRan: false,
    expectedText: "200 not run",
  },
  {
    id: "duplicate",
    label: "duplicate",
    format: "x-headers",
    expectedStatus: 200,
    expectedRan: false,
    expectedText: "200 not re-run",
  },
  {
    id: "tampered",
    label: "tampered body",
    format: "x-headers",
    expectedStatus: 401,
    expectedRan: false,
    expectedText: "401 not run",
  },
  {
    id: "stale",
    label: "stale timestamp",
    format: "x-headers",
    expectedStatus: 401,
    expectedRan: false,
    expectedText: "401 not run",
  },
  {
    id: "wrong-secret",
    label: "wrong secret",
    format: "x-headers",
    expectedStatus: 401,
    expectedRan: false,
    expectedText: "401 not run",
  },
  // Kallima's API reference documents this single header instead of the X-Kallima-* pair:
  // every receiver must take both.
  {
    id: "combined",
    label: `${COMBINED_PREFIX} valid`,
    format: "kallima-signature",
    expectedStatus: 200,
    expectedRan: true,
    expectedText: "200 ran",
  },
  {
    id: "combined-tampered",
    label: `${COMBINED_PREFIX} tampered`,
    format: "kallima-signature",
    expectedStatus: 401,
    expectedRan: false,
    expectedText: "401 not run",
  },
];

/** What one delivery to one route did. */
export interface CellResult {
  caseId: string;
  /** HTTP status, or undefined when there was no answer. */
  status?: number;
  /** Whether the handler ran for this delivery (the event's count on the route's GET list went up). */
  ran?: boolean;
  ok: boolean;
  /** Why it is not ok, or the answer body, for the failure report. */
  detail?: string;
}

async function buildDeliveries(secret: string): Promise<Map<string, Delivery>> {
  const completed = buildEvent("job.completed");
  const deliveries = new Map<string, Delivery>();
  const sign = async (caseId: string, event: OutgoingEvent, defect?: Delivery["defect"]) => {
    const { format } = CASES.find((c) => c.id === caseId)!;
    deliveries.set(
      caseId,
      await createDelivery({ secret, event, format, ...(defect ? { defect } : {}) }),
    );
  };
  await sign("completed", completed);
  await sign("failed", buildEvent("job.failed"));
  await sign("test", buildEvent("webhook.test"));
  // Not one of core's typed events (structure_prediction.* now is): unknown to every receiver.
  await sign("unknown", buildEvent("antibody_design.completed", { data: { id: "abd_1" } }));
  // Kallima re-signs a retry: same event id and bytes, fresh timestamp.
  await sign("duplicate", completed);
  await sign("tampered", buildEvent("job.completed"), "tampered");
  await sign("stale", buildEvent("job.completed"), "stale");
  await sign("wrong-secret", buildEvent("job.completed"), "wrong-secret");
  // A fresh event: the handler must run for it, it is no duplicate of the first job.completed.
  await sign("combined", buildEvent("job.completed"));
  await sign("combined-tampered", buildEvent("job.completed"), "tampered");
  return deliveries;
}

interface RanList {
  events: { id: string; type: string }[];
}

async function ranEvents(url: string): Promise<RanList["events"]> {
  const response = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(`GET ${url} answered ${response.status}: ${text.slice(0, 200)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`GET ${url} did not answer JSON: ${text.slice(0, 200)}`);
  }
  const events = (parsed as Partial<RanList>).events;
  if (!Array.isArray(events)) {
    throw new Error(`GET ${url} did not answer { "events": [...] }: ${text.slice(0, 200)}`);
  }
  return events;
}

const countOf = (events: RanList["events"], id: string) =>
  events.filter((event) => event.id === id).length;

/**
 * Sends the deliveries of {@link CASES} to one route, in order, and checks each answer and whether the
 * handler ran (from the route's `GET` list, before and after each delivery).
 */
export async function runScenario(url: string, secret: string): Promise<CellResult[]> {
  const deliveries = await buildDeliveries(secret);
  const cells: CellResult[] = [];
  let before: RanList["events"];
  try {
    before = await ranEvents(url);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return CASES.map((c) => ({ caseId: c.id, ok: false, detail }));
  }
  for (const deliveryCase of CASES) {
    const delivery = deliveries.get(deliveryCase.id)!;
    try {
      const answer = await sendDelivery(url, delivery, { timeoutMs: 20_000 });
      const after = await ranEvents(url);
      const ran = countOf(after, delivery.event.id) > countOf(before, delivery.event.id);
      before = after;
      const ok = answer.status === deliveryCase.expectedStatus && ran === deliveryCase.expectedRan;
      cells.push({
        caseId: deliveryCase.id,
        status: answer.status,
        ran,
        ok,
        ...(ok ? {} : { detail: `answer body: ${answer.body.slice(0, 300)}` }),
      });
    } catch (error) {
      cells.push({
        caseId: deliveryCase.id,
        ok: false,
        detail: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return cells;
}
