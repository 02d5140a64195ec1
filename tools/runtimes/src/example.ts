// Signed, tampered, stale, BOM and invalid-UTF-8 deliveries against the Hono example on one
// runtime, in both header formats, signed by the shared independent signer of
// packages/conformance (node:crypto on this side, never the core under test).
import {
  type ConformanceRequest,
  type SignOptions,
  signDelivery,
} from "@kallima/webhooks-conformance/signer";

/** The secret the example is started with on every runtime. */
export const SECRET = "whsec_runtimeMatrixSecret_0123456789abcdefgh";
const OTHER_SECRET = "whsec_someOtherEndpointSecret_0123456789ab";

/** One delivery and the answer every runtime must give it. */
export interface ExampleCase {
  name: string;
  delivery: ConformanceRequest;
  status: number;
  /** `outcome` of a 2xx answer, else `error.code`. */
  outcome: string;
  /** The id `GET /kallima-events` lists afterwards, when a handler (not onUnhandled) ran. */
  recorded?: string;
}

/** How the example did: cases passed of `total`, or the error that kept it from running. */
export type ExampleOutcome = { total: number; failures: string[] } | { error: string };

const encoder = new TextEncoder();

function concat(...parts: (string | Uint8Array)[]): Uint8Array {
  const arrays = parts.map((part) => (typeof part === "string" ? encoder.encode(part) : part));
  const out = new Uint8Array(arrays.reduce((size, part) => size + part.byteLength, 0));
  let offset = 0;
  for (const part of arrays) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

const eventBody = (id: string, type: string, data: unknown): string =>
  JSON.stringify({
    id,
    type,
    api_version: "2026-04-23",
    created_at: new Date().toISOString(),
    data,
  });

type Sign = Omit<SignOptions, "format">;

/** X-Kallima-Signature + X-Kallima-Timestamp, with the example's secret unless told otherwise. */
const signed = (body: string | Uint8Array, options: Sign = {}): ConformanceRequest =>
  signDelivery(body, { secret: SECRET, ...options, format: "x-headers" });

/** The one header `Kallima-Signature: t=…,v1=…`; `extraSecrets` sign into earlier v1 items. */
const combined = (body: string | Uint8Array, options: Sign = {}): ConformanceRequest =>
  signDelivery(body, { secret: SECRET, ...options, format: "kallima-signature" });

const withHeaders = (
  delivery: ConformanceRequest,
  headers: Record<string, string>,
): ConformanceRequest => ({ ...delivery, headers: { ...delivery.headers, ...headers } });

/** The deliveries every runtime must answer the same way; `tag` keeps event ids apart. */
export function exampleCases(tag: string): ExampleCase[] {
  const completed = eventBody(`evt_${tag}_completed`, "job.completed", {
    id: "job_1",
    status: "completed",
  });
  const failed = eventBody(`evt_${tag}_failed`, "job.failed", {
    id: "job_2",
    status: "failed",
    error: { code: "oom", message: "GPU ran out of memory" },
  });
  const test = eventBody(`evt_${tag}_test`, "webhook.test", { webhook_id: "wh_1" });
  const ksTest = eventBody(`evt_${tag}_ks_test`, "webhook.test", { webhook_id: "wh_ks" });
  const ksFailed = eventBody(`evt_${tag}_ks_failed`, "job.failed", {
    id: "job_3",
    status: "failed",
    error_message: "out of credits",
  });
  const ksFirst = eventBody(`evt_${tag}_ks_first`, "job.completed", {
    id: "job_4",
    status: "completed",
  });
  const ksNotRescued = eventBody(`evt_${tag}_ks_not_rescued`, "job.completed", {
    id: "job_5",
    status: "completed",
  });
  // Bytes 0xFF 0xFE are not UTF-8: any decode/re-encode step changes them.
  const invalidUtf8 = concat(
    `{"id":"evt_${tag}_bad_utf8","type":"webhook.test","api_version":"2026-04-23","created_at":"2026-04-23T10:00:00+00:00","data":{"webhook_id":"wh_`,
    new Uint8Array([0xff, 0xfe]),
    `"}}`,
  );
  const withBom = concat(
    new Uint8Array([0xef, 0xbb, 0xbf]),
    eventBody(`evt_${tag}_bom`, "webhook.test", { webhook_id: "wh_bom" }),
  );
  const { "x-kallima-signature": _, ...unsigned } = signed(test).headers;
  const ksNoTSigned = combined(ksTest);
  const ksNoT = withHeaders(ksNoTSigned, {
    "kallima-signature": (ksNoTSigned.headers["kallima-signature"] ?? "").replace(/^t=\d+,/, ""),
  });
  // Which header wins when both formats arrive: Kallima-Signature alone (PROTOCOL.md).
  const ksWins = withHeaders(combined(ksFirst), {
    "x-kallima-signature": "0".repeat(64),
    "x-kallima-timestamp": String(nowSeconds()),
  });
  const ksNotRescuedByPair = withHeaders(signed(ksNotRescued), {
    "kallima-signature":
      combined(ksNotRescued, { secret: OTHER_SECRET }).headers["kallima-signature"] ?? "",
  });
  return [
    {
      name: "signed job.completed",
      delivery: signed(completed),
      status: 200,
      outcome: "handled",
      recorded: `evt_${tag}_completed`,
    },
    {
      name: "signed job.failed",
      delivery: signed(failed),
      status: 200,
      outcome: "handled",
      recorded: `evt_${tag}_failed`,
    },
    {
      name: "signed webhook.test",
      delivery: signed(test),
      status: 200,
      outcome: "handled",
      recorded: `evt_${tag}_test`,
    },
    {
      name: "repeat of job.completed",
      delivery: signed(completed),
      status: 200,
      outcome: "duplicate",
    },
    {
      name: "tampered body",
      delivery: { ...signed(completed), body: encoder.encode(completed.replace("job_1", "job_9")) },
      status: 401,
      outcome: "invalid_signature",
    },
    {
      name: "stale (600 s old)",
      delivery: signed(completed, { timestamp: nowSeconds() - 600 }),
      status: 401,
      outcome: "timestamp_too_old",
    },
    {
      name: "future (600 s ahead)",
      delivery: signed(completed, { timestamp: nowSeconds() + 600 }),
      status: 401,
      outcome: "timestamp_in_future",
    },
    {
      name: "other secret",
      delivery: signed(completed, { secret: OTHER_SECRET }),
      status: 401,
      outcome: "invalid_signature",
    },
    {
      name: "no signature",
      delivery: { body: encoder.encode(test), headers: unsigned },
      status: 400,
      outcome: "missing_signature",
    },
    // The signature matches the exact bytes (a decode/re-encode would give 401, next case); then
    // bytes that are not UTF-8 are not JSON (RFC 8259 §8.1), so no event: 400, not 401.
    {
      name: "invalid UTF-8, exact bytes",
      delivery: signed(invalidUtf8),
      status: 400,
      outcome: "invalid_payload",
    },
    {
      name: "invalid UTF-8, re-encoded",
      delivery: {
        ...signed(invalidUtf8),
        body: encoder.encode(new TextDecoder().decode(invalidUtf8)),
      },
      status: 401,
      outcome: "invalid_signature",
    },
    // Signature matches the exact bytes (BOM included), then the BOM makes it non-JSON: 400, not 401.
    {
      name: "UTF-8 BOM, exact bytes",
      delivery: signed(withBom),
      status: 400,
      outcome: "invalid_payload",
    },
    // Acknowledged (200) through the example's onUnhandled, which is no handler of its type: the
    // core's contract answers "unhandled" then (packages/core/README.md), and GET does not list it.
    {
      name: "unknown event type",
      delivery: signed(eventBody(`evt_${tag}_new`, "humanization.completed", {})),
      status: 200,
      outcome: "unhandled",
    },
    // The same deliveries in the combined header of Kallima's API reference.
    {
      name: "Kallima-Signature webhook.test",
      delivery: combined(ksTest),
      status: 200,
      outcome: "handled",
      recorded: `evt_${tag}_ks_test`,
    },
    // The id was handled through the X- headers above: deduplication does not depend on the format.
    {
      name: "Kallima-Signature repeat of job.completed",
      delivery: combined(completed),
      status: 200,
      outcome: "duplicate",
    },
    {
      name: "Kallima-Signature tampered body",
      delivery: { ...combined(ksTest), body: encoder.encode(ksTest.replace("wh_ks", "wh_xx")) },
      status: 401,
      outcome: "invalid_signature",
    },
    {
      name: "Kallima-Signature stale (600 s old)",
      delivery: combined(ksTest, { timestamp: nowSeconds() - 600 }),
      status: 401,
      outcome: "timestamp_too_old",
    },
    {
      name: "Kallima-Signature other secret",
      delivery: combined(ksTest, { secret: OTHER_SECRET }),
      status: 401,
      outcome: "invalid_signature",
    },
    {
      name: "Kallima-Signature two v1, second matches",
      delivery: combined(ksFailed, { extraSecrets: [OTHER_SECRET] }),
      status: 200,
      outcome: "handled",
      recorded: `evt_${tag}_ks_failed`,
    },
    {
      name: "Kallima-Signature without t",
      delivery: ksNoT,
      status: 400,
      outcome: "missing_timestamp",
    },
    {
      name: "Kallima-Signature valid, X- pair wrong",
      delivery: ksWins,
      status: 200,
      outcome: "handled",
      recorded: `evt_${tag}_ks_first`,
    },
    {
      name: "Kallima-Signature wrong, X- pair valid",
      delivery: ksNotRescuedByPair,
      status: 401,
      outcome: "invalid_signature",
    },
  ];
}

interface Answer {
  outcome?: unknown;
  error?: { code?: unknown };
  events?: { id?: unknown }[];
}

function parseAnswer(text: string): Answer {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? (value as Answer) : {};
  } catch {
    return {};
  }
}

const getList = async (url: string): Promise<Answer> =>
  parseAnswer(await (await fetch(url)).text());

/** Sends every case to `<baseUrl>/kallima-events`, then checks which handlers ran, in order. */
export async function checkExample(baseUrl: string, tag: string): Promise<ExampleOutcome> {
  const failures: string[] = [];
  const url = `${baseUrl}/kallima-events`;
  const before = await getList(url);
  if (JSON.stringify(before) !== JSON.stringify({ events: [] })) {
    failures.push(`GET before: ${JSON.stringify(before)}`);
  }
  const cases = exampleCases(tag);
  for (const { name, delivery, status, outcome } of cases) {
    const response = await fetch(url, {
      method: delivery.method ?? "POST",
      headers: delivery.headers,
      body: delivery.body,
    });
    const text = await response.text();
    const answer = parseAnswer(text);
    const got = answer.outcome ?? answer.error?.code;
    if (response.status !== status || got !== outcome) {
      failures.push(
        `${name}: expected ${status} ${outcome}, got ${response.status} ${text.slice(0, 200)}`,
      );
    }
  }
  const after = await getList(url);
  // In delivery order: the ids whose handler (not onUnhandled) ran, each once.
  const expected = cases.flatMap(({ recorded }) => (recorded ? [recorded] : []));
  const ran = (after.events ?? []).map((event) => event.id);
  if (JSON.stringify(ran) !== JSON.stringify(expected)) {
    failures.push(
      `GET after: handlers ran for ${JSON.stringify(ran)}, expected ${JSON.stringify(expected)}`,
    );
  }
  return { total: cases.length + 2, failures };
}
