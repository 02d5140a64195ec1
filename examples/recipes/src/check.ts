// The deliveries every recipe must answer, and the check that sends them: through the framework's
// own request handling in this package's tests, over HTTP on Bun, Deno and workerd in
// tools/runtimes. Signed by the shared independent signer (node:crypto), never by the core.
import { type ConformanceRequest, signDelivery } from "@kallima/webhooks-conformance/signer";

/** The secret every recipe is started with in the tests. */
export const RECIPE_SECRET = "whsec_recipesCheckSecret_0123456789abcdefghij";
const OTHER_SECRET = "whsec_someOtherEndpointSecret_0123456789ab";

/** The path each recipe serves its webhook route on. */
export const RECIPE_PATH = "/webhooks/kallima";

/** What the framework answers a `GET` on the webhook route (the core's 405 unless told otherwise). */
export interface MethodAnswer {
  status: number;
  /** The `Allow` header, when the answer must carry one. */
  allow?: string;
  /** `error.code` of a JSON answer; absent when the framework answers with a body of its own. */
  code?: string;
}

/** The core's answer: 405, `Allow: POST`, `method_not_allowed`. */
export const CORE_METHOD_ANSWER: MethodAnswer = {
  status: 405,
  allow: "POST",
  code: "method_not_allowed",
};

interface RecipeCase {
  name: string;
  delivery: ConformanceRequest;
  status: number;
  /** `outcome` of a 2xx answer, else `error.code`. */
  outcome: string;
}

/** How a check sends a request: to the framework in a test, over HTTP to a runtime. */
export type Send = (request: Request) => Promise<Response>;

export interface RecipeCheck {
  /** Keeps event and job ids apart between runs. */
  tag: string;
  /** The base URL the requests are made for (the path is {@link RECIPE_PATH}). */
  baseUrl: string;
  /** Everything the recipe logged so far, read after the deliveries. */
  logged: () => string | Promise<string>;
  /** Default {@link CORE_METHOD_ANSWER}. */
  methodAnswer?: MethodAnswer;
}

/** Cases passed of `total`, and what failed. */
export interface RecipeOutcome {
  total: number;
  failures: string[];
}

const encoder = new TextEncoder();
const nowSeconds = () => Math.floor(Date.now() / 1000);

const jobCompleted = (eventId: string, jobId: string) =>
  JSON.stringify({
    id: eventId,
    type: "job.completed",
    api_version: "2026-04-23",
    created_at: new Date().toISOString(),
    data: { id: jobId, status: "completed" },
  });

/** The job ids whose `job.completed` handler must have run exactly once, and the cases. */
export function recipeCases(tag: string): { handledJobs: string[]; cases: RecipeCase[] } {
  const first = jobCompleted(`evt_${tag}_1`, `job_${tag}_1`);
  const second = jobCompleted(`evt_${tag}_2`, `job_${tag}_2`);
  const sign = (body: string | Uint8Array, options: Parameters<typeof signDelivery>[1] = {}) =>
    signDelivery(body, { secret: RECIPE_SECRET, ...options });
  const { "x-kallima-signature": _, ...unsigned } = sign(first).headers;
  // 0xFF 0xFE are not UTF-8: a framework that decoded and re-encoded the body would change them.
  const notUtf8 = new Uint8Array([...encoder.encode(first.slice(0, -2)), 0xff, 0xfe, 0x7d, 0x7d]);
  return {
    handledJobs: [`job_${tag}_1`, `job_${tag}_2`],
    cases: [
      { name: "signed", delivery: sign(first), status: 200, outcome: "handled" },
      { name: "repeated", delivery: sign(first), status: 200, outcome: "duplicate" },
      {
        name: "tampered",
        delivery: { ...sign(first), body: encoder.encode(first.replace("completed", "COMPLETED")) },
        status: 401,
        outcome: "invalid_signature",
      },
      {
        name: "stale (600 s old)",
        delivery: sign(first, { timestamp: nowSeconds() - 600 }),
        status: 401,
        outcome: "timestamp_too_old",
      },
      {
        name: "other secret",
        delivery: sign(second, { secret: OTHER_SECRET }),
        status: 401,
        outcome: "invalid_signature",
      },
      {
        name: "unsigned",
        delivery: { body: encoder.encode(first), headers: unsigned },
        status: 400,
        outcome: "missing_signature",
      },
      {
        name: "not UTF-8, exact bytes",
        delivery: sign(notUtf8),
        status: 400,
        outcome: "invalid_payload",
      },
      {
        name: "Kallima-Signature",
        delivery: sign(second, { format: "kallima-signature" }),
        status: 200,
        outcome: "handled",
      },
    ],
  };
}

const answerOf = (text: string): { outcome?: unknown; error?: { code?: unknown } } => {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? value : {};
  } catch {
    return {};
  }
};

/**
 * Sends every case and a `GET` through `send`, then checks that the recipe's `job.completed`
 * handler logged each handled job exactly once (not for the repeat, nor for a rejection).
 */
export async function checkRecipe(send: Send, check: RecipeCheck): Promise<RecipeOutcome> {
  const url = new URL(RECIPE_PATH, check.baseUrl).href;
  const { handledJobs, cases } = recipeCases(check.tag);
  const failures: string[] = [];
  for (const { name, delivery, status, outcome } of cases) {
    const response = await send(
      // A copy on its own ArrayBuffer: what a Request body takes in the DOM types.
      new Request(url, {
        method: "POST",
        headers: delivery.headers,
        body: new Uint8Array(delivery.body),
      }),
    );
    const text = await response.text();
    const answer = answerOf(text);
    const got = answer.outcome ?? answer.error?.code;
    if (response.status !== status || got !== outcome) {
      failures.push(`${name}: expected ${status} ${outcome}, got ${response.status} ${text}`);
    }
  }
  const expected = check.methodAnswer ?? CORE_METHOD_ANSWER;
  const get = await send(new Request(url, { method: "GET" }));
  const getText = await get.text();
  const allow = get.headers.get("allow");
  const code = answerOf(getText).error?.code;
  if (
    get.status !== expected.status ||
    (expected.allow !== undefined && allow !== expected.allow) ||
    (expected.code !== undefined && code !== expected.code)
  ) {
    failures.push(
      `GET: expected ${JSON.stringify(expected)}, got ${get.status} allow=${allow} ${getText}`,
    );
  }
  const logged = await check.logged();
  for (const job of handledJobs) {
    const times = logged.split("\n").filter((line) => line.includes(`job ${job} completed`)).length;
    if (times !== 1) failures.push(`handler for ${job}: ran ${times} times, expected once`);
  }
  return { total: cases.length + 1 + handledJobs.length, failures };
}
