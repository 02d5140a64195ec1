import { randomBytes } from "node:crypto";
import type { KallimaEventEnvelope, SignatureFormat } from "@kallima/webhooks";
import {
  createEvent,
  humanizationCompletedEvent,
  humanizationFailedEvent,
  jobCompletedEvent,
  jobFailedEvent,
  type SignedPayload,
  signPayload,
  structurePredictionCompletedEvent,
  structurePredictionFailedEvent,
  webhookTestEvent,
} from "@kallima/webhooks/testing";
import { CliError } from "./errors.js";
import { parseSignatureFormat } from "./formats.js";

/** An event envelope as the CLI sends it: any type, any JSON data. */
export type OutgoingEvent = KallimaEventEnvelope<string, unknown>;

/**
 * A deliberately bad delivery, to check that an endpoint refuses it:
 * - `stale`: signed one hour ago (outside the 5-minute window),
 * - `tampered`: the body was changed after signing,
 * - `wrong-secret`: signed with a random secret instead of the endpoint's.
 */
export type DeliveryDefect = "stale" | "tampered" | "wrong-secret";

/**
 * The error code a correct receiver names when it refuses each defect (PROTOCOL.md's codes, as
 * `@kallima/webhooks` answers them in `error.code`, with status 401).
 */
export const EXPECTED_CODE_OF_DEFECT: Readonly<Record<DeliveryDefect, string>> = Object.freeze({
  stale: "timestamp_too_old",
  tampered: "invalid_signature",
  "wrong-secret": "invalid_signature",
});

/** Seconds in the past a `stale` delivery is signed at: far outside the default 300 s tolerance. */
export const STALE_AGE_SECONDS = 3600;

/** Options of {@link buildEvent}. */
export interface BuildEventOptions {
  /**
   * Merged deeply over the fixture's data for the types in {@link FIXTURE_EVENT_TYPES} (objects
   * key by key, anything else replaced); the whole `data` otherwise.
   */
  data?: Record<string, unknown>;
  /** The event id; default a fresh `evt_…`. */
  id?: string;
}

/** The event types {@link buildEvent} has a realistic fixture for. */
export const FIXTURE_EVENT_TYPES = [
  "job.completed",
  "job.failed",
  "webhook.test",
  "humanization.completed",
  "humanization.failed",
  "structure_prediction.completed",
  "structure_prediction.failed",
] as const;

/**
 * Builds a realistic event: the fixtures of `@kallima/webhooks/testing` for the types of
 * {@link FIXTURE_EVENT_TYPES} (the job object for `job.*`, the product resource for
 * `humanization.*` and `structure_prediction.*`), a plain envelope for any other type.
 *
 * @example
 * ```ts
 * const event = buildEvent("job.failed", { data: { error_message: "took too long" } });
 * ```
 */
export function buildEvent(type: string, options: BuildEventOptions = {}): OutgoingEvent {
  if (typeof type !== "string" || type.trim() === "") {
    throw new CliError("invalid_option", "The event type must not be empty (e.g. job.completed).");
  }
  if (options.id !== undefined && options.id.trim() === "") {
    throw new CliError(
      "invalid_option",
      "The event id must not be empty: leave it out for a fresh evt_….",
    );
  }
  const envelope = options.id === undefined ? {} : { id: options.id };
  const fixture = fixtureEvent(type, envelope);
  if (fixture === undefined) return createEvent(type, options.data ?? {}, envelope);
  if (options.data === undefined) return fixture;
  // Deep: --data '{"error":{"detail":"…"}}' keeps the fixture's error.code and error.title.
  return { ...fixture, data: deepMerge(fixture.data, options.data) };
}

function fixtureEvent(type: string, envelope: { id?: string }): OutgoingEvent | undefined {
  switch (type) {
    case "job.completed":
      return jobCompletedEvent(envelope);
    case "job.failed":
      return jobFailedEvent(envelope);
    case "webhook.test":
      return webhookTestEvent(envelope);
    case "humanization.completed":
      return humanizationCompletedEvent(envelope);
    case "humanization.failed":
      return humanizationFailedEvent(envelope);
    case "structure_prediction.completed":
      return structurePredictionCompletedEvent(envelope);
    case "structure_prediction.failed":
      return structurePredictionFailedEvent(envelope);
    default:
      return undefined;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Objects merge key by key, at every depth; anything else (arrays, null, scalars) replaces. */
function deepMerge(base: unknown, override: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = isPlainObject(base) ? { ...base } : {};
  for (const [key, value] of Object.entries(override)) {
    merged[key] =
      isPlainObject(value) && isPlainObject(merged[key]) ? deepMerge(merged[key], value) : value;
  }
  return merged;
}

/** Options of {@link createDelivery}. */
export interface CreateDeliveryOptions {
  /** The endpoint's signing secret (`whsec_…`). */
  secret: string;
  /** The event to deliver (see {@link buildEvent}). */
  event: OutgoingEvent;
  /** Unix seconds to sign at; default now (or an hour ago for a `stale` delivery). */
  timestamp?: number;
  /** Make the delivery deliberately bad (see {@link DeliveryDefect}). */
  defect?: DeliveryDefect;
  /**
   * Which of Kallima's header formats to sign in: `"x-headers"` (default: `X-Kallima-Signature` +
   * `X-Kallima-Timestamp`) or `"kallima-signature"` (`Kallima-Signature: t=…,v1=…`).
   */
  format?: SignatureFormat;
}

/** A signed delivery, ready to POST. */
export interface Delivery {
  event: OutgoingEvent;
  /** The exact bytes to send. For a `tampered` delivery they differ from the signed bytes. */
  body: string;
  headers: Record<string, string>;
  timestamp: string;
  /** The header format it is signed in. */
  format: SignatureFormat;
  defect?: DeliveryDefect;
  /** What a correct endpoint does with it: `accepted` (2xx) or `rejected` (4xx). */
  expected: "accepted" | "rejected";
  /** For a rejected delivery, the error code the refusal must name when it names one. */
  expectedCode?: string;
}

/**
 * Signs an event exactly as Kallima does (HMAC-SHA256 over `timestamp.body`), or deliberately
 * breaks the delivery when `defect` is set.
 *
 * @example
 * ```ts
 * const delivery = await createDelivery({ secret, event: buildEvent("job.completed") });
 * const stale = await createDelivery({ secret, event: buildEvent("job.completed"), defect: "stale" });
 * const combined = await createDelivery({ secret, event, format: "kallima-signature" });
 * ```
 */
export async function createDelivery(options: CreateDeliveryOptions): Promise<Delivery> {
  const { event, defect } = options;
  if (options.timestamp !== undefined && defect === "stale") {
    throw new CliError("invalid_option", "Give either a timestamp or a stale delivery, not both.");
  }
  const now = Math.floor(Date.now() / 1000);
  const timestamp = options.timestamp ?? (defect === "stale" ? now - STALE_AGE_SECONDS : now);
  const secret =
    defect === "wrong-secret" ? `whsec_${randomBytes(24).toString("base64url")}` : options.secret;
  const body = JSON.stringify(event);
  const format =
    options.format === undefined ? "x-headers" : parseSignatureFormat(options.format, "format");
  let signed: SignedPayload<SignatureFormat>;
  try {
    signed = await signPayload({
      secret,
      payload: body,
      timestamp,
      format,
    });
  } catch (error) {
    throw new CliError("invalid_secret", error instanceof Error ? error.message : String(error), {
      cause: error,
    });
  }
  const sentBody =
    defect === "tampered"
      ? // What an attacker would do: keep the signature, change what the event says.
        JSON.stringify({ ...event, data: tamperData(event.data) })
      : body;
  return {
    event,
    body: sentBody,
    headers: { ...signed.headers },
    timestamp: signed.timestamp,
    format: signed.format,
    ...(defect ? { defect, expectedCode: EXPECTED_CODE_OF_DEFECT[defect] } : {}),
    expected: defect ? "rejected" : "accepted",
  };
}

function tamperData(data: unknown): unknown {
  if (typeof data === "object" && data !== null && !Array.isArray(data)) {
    return { ...data, tampered: true };
  }
  return { tampered: true };
}

/** The endpoint's answer to one delivery. */
export interface DeliveryResponse {
  status: number;
  /** Milliseconds from sending the request to reading the whole answer. */
  latencyMs: number;
  /** The answer body as text. */
  body: string;
  /** Whether the answer is what a correct endpoint gives this delivery. */
  asExpected: boolean;
  /** Why it is not, when it is not: for a person to read. */
  reason?: string;
}

/** Options of {@link sendDelivery}. */
export interface SendDeliveryOptions {
  /** Give up after this many milliseconds. Default 30000, Kallima's own delivery timeout. */
  timeoutMs?: number;
  /**
   * Also count `409` (another delivery of the same event is in progress) as expected, as when
   * the same event is sent several times at once.
   */
  allowInProgress?: boolean;
}

/**
 * Whether `status` is what a correct endpoint answers: 2xx for a good delivery, 4xx for a bad
 * one (a 5xx would make Kallima retry a forgery forever). 404 and 405 never are: they say the
 * URL has no webhook route, whatever was sent.
 */
export function isExpectedStatus(
  expected: Delivery["expected"],
  status: number,
  options: { allowInProgress?: boolean } = {},
): boolean {
  if (status === 404 || status === 405) return false;
  if (expected === "rejected") return status >= 400 && status < 500;
  if (options.allowInProgress && status === 409) return true;
  return status >= 200 && status < 300;
}

/** The error code an answer names: `{ error: { code } }` (this project's receivers) or `{ code }`. */
function answerCode(body: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const { error, code } = parsed as { error?: { code?: unknown }; code?: unknown };
  const named = typeof error === "object" && error !== null ? error.code : code;
  return typeof named === "string" ? named : undefined;
}

/** Whether an answer is the right one for the delivery, and if not, why. */
function judgeAnswer(
  delivery: Delivery,
  status: number,
  body: string,
  options: { allowInProgress?: boolean },
): { asExpected: boolean; reason?: string } {
  if (status === 404 || status === 405) {
    return {
      asExpected: false,
      reason: `${status} says nothing takes a POST at this URL: check its path (your webhook route, e.g. /kallima-events) and that the route accepts POST. This is not a refusal of the delivery.`,
    };
  }
  if (delivery.expected === "accepted") {
    return isExpectedStatus("accepted", status, options)
      ? { asExpected: true }
      : {
          asExpected: false,
          reason: "a valid delivery must be answered 2xx, or Kallima retries it",
        };
  }
  if (!isExpectedStatus("rejected", status)) {
    return { asExpected: false, reason: "a forged or stale delivery must be refused with 4xx" };
  }
  const code = answerCode(body);
  const expectedCode = delivery.expectedCode;
  if (expectedCode !== undefined && code !== undefined && code !== expectedCode) {
    return {
      asExpected: false,
      reason: `refused for another reason (${code}): this delivery must be refused with ${expectedCode}`,
    };
  }
  if (code === undefined && status !== 400 && status !== 401 && status !== 403) {
    return {
      asExpected: false,
      reason: `${status} is not a refusal of a forged or stale delivery: expected 401${expectedCode ? ` (${expectedCode})` : ""}`,
    };
  }
  return { asExpected: true };
}

/**
 * POSTs a delivery and reports status, latency and body. Throws a {@link CliError}
 * (`unreachable` or `timeout`) when there is no answer.
 *
 * @example
 * ```ts
 * const answer = await sendDelivery("http://127.0.0.1:3000/kallima-events", delivery);
 * if (!answer.asExpected) process.exitCode = 1;
 * ```
 */
export async function sendDelivery(
  url: string,
  delivery: Delivery,
  options: SendDeliveryOptions = {},
): Promise<DeliveryResponse> {
  const target = parseUrl(url);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const started = performance.now();
  try {
    const response = await fetch(target, {
      method: "POST",
      headers: delivery.headers,
      body: delivery.body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = await response.text();
    return {
      status: response.status,
      latencyMs: Math.round((performance.now() - started) * 10) / 10,
      body,
      ...judgeAnswer(delivery, response.status, body, options),
    };
  } catch (error) {
    throw networkError(target, error, timeoutMs);
  }
}

/** Parses an endpoint URL, or throws a {@link CliError} that says what is wrong with it. */
export function parseUrl(url: string): URL {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new CliError(
      "invalid_option",
      `"${url}" is not a URL. Give the full endpoint, e.g. http://localhost:3000/kallima-events.`,
    );
  }
  if (target.protocol !== "http:" && target.protocol !== "https:") {
    throw new CliError("invalid_option", `"${url}" is not an http(s) URL.`);
  }
  return target;
}

function networkError(target: URL, error: unknown, timeoutMs: number): CliError {
  const name = error instanceof Error ? error.name : "";
  if (name === "TimeoutError" || name === "AbortError") {
    return new CliError("timeout", `${target.origin} did not answer within ${timeoutMs} ms.`, {
      cause: error,
    });
  }
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === "string" ? ` (${cause.code})` : "";
  return new CliError(
    "unreachable",
    `Could not reach ${target.origin}${code}. Is the server running and the URL right?`,
    { cause: error },
  );
}

/** Options of {@link sendEvent}. */
export interface SendEventOptions extends SendDeliveryOptions {
  url: string;
  secret: string;
  event: OutgoingEvent;
  defect?: DeliveryDefect;
  /** The header format to sign in (see {@link CreateDeliveryOptions.format}); default `x-headers`. */
  format?: SignatureFormat;
  /** Fixed signing time (Unix seconds); default now, re-signed for each repeat. */
  timestamp?: number;
  /** Deliver the same event (same id) this many times, as Kallima's at-least-once delivery may. Default 1. */
  repeat?: number;
  /** At most this many deliveries in flight at once. Default 1. */
  concurrency?: number;
  /** Called after each answer, in completion order. */
  onResponse?: (attempt: number, response: DeliveryResponse, delivery: Delivery) => void;
}

/** One attempt of {@link sendEvent}. */
export interface SentDelivery extends DeliveryResponse {
  /** 1-based. */
  attempt: number;
}

/** What {@link sendEvent} did. */
export interface SendReport {
  event: { id: string; type: string };
  /** The header format every delivery was signed in. */
  format: SignatureFormat;
  defect?: DeliveryDefect;
  expected: Delivery["expected"];
  deliveries: SentDelivery[];
  /** Every answer was the expected one. */
  ok: boolean;
}

/**
 * Delivers one event `repeat` times (each freshly signed, same event id), `concurrency` at a
 * time, and says whether every answer was the expected one.
 *
 * @example
 * ```ts
 * const report = await sendEvent({ url, secret, event: buildEvent("job.completed"), repeat: 3 });
 * console.log(report.deliveries.map((d) => d.status)); // [200, 200, 200]
 * ```
 */
export async function sendEvent(options: SendEventOptions): Promise<SendReport> {
  const repeat = positiveInteger(options.repeat ?? 1, "repeat");
  const concurrency = positiveInteger(options.concurrency ?? 1, "concurrency");
  const allowInProgress = options.allowInProgress ?? concurrency > 1;
  const format =
    options.format === undefined ? "x-headers" : parseSignatureFormat(options.format, "format");
  const deliveries: SentDelivery[] = [];
  let next = 1;
  let expected: Delivery["expected"] = options.defect ? "rejected" : "accepted";
  const worker = async (): Promise<void> => {
    while (next <= repeat) {
      const attempt = next++;
      const delivery = await createDelivery({
        secret: options.secret,
        event: options.event,
        ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
        ...(options.defect ? { defect: options.defect } : {}),
        format,
      });
      expected = delivery.expected;
      const response = await sendDelivery(options.url, delivery, {
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        allowInProgress,
      });
      deliveries.push({ attempt, ...response });
      options.onResponse?.(attempt, response, delivery);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, repeat) }, worker));
  deliveries.sort((a, b) => a.attempt - b.attempt);
  return {
    event: { id: options.event.id, type: options.event.type },
    format,
    ...(options.defect ? { defect: options.defect } : {}),
    expected,
    deliveries,
    ok: deliveries.every((delivery) => delivery.asExpected),
  };
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new CliError("invalid_option", `${name} must be a whole number ≥ 1, got ${value}.`);
  }
  return value;
}
