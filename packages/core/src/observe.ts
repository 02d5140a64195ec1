import { isPromiseLike } from "./dispatch.js";
import { type WebhookAnswerCode, WebhookConfigError, WebhookSignatureError } from "./errors.js";
import type { WebhookOutcome, WebhookResult } from "./result.js";
import type { SignatureFormat } from "./signature-headers.js";
import type { VerifiedDelivery } from "./verify.js";

/**
 * What became of a delivery, as a {@link DeliveryRecord} says it: a {@link WebhookOutcome}, or
 * - `"verified"`: verify-only mode (`handler.verify()`, the adapters' `verifyKallimaWebhook`)
 *   found it authentic and handed it to the app's own route, which answers it;
 * - `"error"`: `handle()` rejected instead of answering (a bug, or a `secret` function that
 *   threw something other than this library's errors); the adapter or framework answers it.
 */
export type DeliveryRecordOutcome = WebhookOutcome | "verified" | "error";

/**
 * The code of a non-2xx answer: an error's `code`, or the code in the body of the two answers
 * that carry no error object (`405 method_not_allowed`, `409 event_in_progress`).
 */
export type DeliveryCode = WebhookAnswerCode;

/**
 * One delivery, as `onDelivery` gets it: flat, JSON-serializable, for a log line or a database
 * row. It never holds the secret, a signature or the body; event id and type are the only
 * fields taken from the payload, and only once it is authentic.
 *
 * @example
 * ```ts
 * createWebhookHandler({
 *   secret,
 *   onDelivery: (record) => db.insert("webhook_deliveries", record),
 * });
 * ```
 */
export interface DeliveryRecord {
  /** When the delivery arrived, ISO 8601 (UTC), on the handler's clock (`now`). */
  time: string;
  /** The event's `id`, once verified. */
  eventId?: string;
  /** The event's `type`, once verified. */
  eventType?: string;
  outcome: DeliveryRecordOutcome;
  /**
   * The HTTP status answered. Absent for `"verified"` (the app's route answers) and `"error"`
   * (the adapter does).
   */
  status?: number;
  /** Why the answer was not 2xx: the code in its body. Absent on 2xx. */
  code?: DeliveryCode;
  /** From arrival to answer, in milliseconds (a handler still running at the deadline goes on). */
  durationMs: number;
  /** Which configured secret matched (its index in the `secret` list), once verified. */
  secretIndex?: number;
  /** Which header format the delivery used, once verified. */
  format?: SignatureFormat;
  /**
   * Arrival time minus the signed timestamp, in seconds (negative when the sender's clock is
   * ahead). Known once verified, and for deliveries refused as too old or in the future.
   */
  ageSeconds?: number;
  /**
   * How many deliveries of this event id this handler has received, this one included (1 on
   * the first): counted in this process for the last 10,000 ids. Kallima sends no attempt
   * number on the wire, so this is the receiver's count; a retry that reached another instance
   * is not counted here. Known once verified.
   */
  attempt?: number;
}

/** How a delivery entered the handler: `handle()` (verify and dispatch) or `verify()` (verify only). */
export type DeliveryMode = "handle" | "verify";

/**
 * One step of a delivery, as an instrumentation sees it:
 * - `verify`: the secret lookup and the signature, freshness and envelope checks;
 * - `claim`: the idempotency store's claim on the event id;
 * - `handler`: one registered handler (or `onUnhandled`), by its position among the type's.
 */
export type DeliveryStep =
  | { name: "verify" }
  | { name: "claim"; eventId: string; eventType: string }
  | { name: "handler"; index: number; eventType: string };

/** What an instrumentation is told when a delivery starts. */
export interface DeliveryStart {
  mode: DeliveryMode;
}

/** An instrumentation's view of one delivery: its steps, then its record. */
export interface DeliveryObservation {
  /**
   * Runs one step: it must call `run` once, synchronously, and return what `run` returns (the
   * value, or a promise that settles as `run`'s does; `run` may throw). This is where a tracer
   * makes the step's span the active one, so that spans made inside a handler nest under it.
   */
  step<T>(step: DeliveryStep, run: () => T): T;
  /**
   * The delivery was answered (or handed on, or `handle()` rejected). Called once. A handler
   * still running past the deadline may still end its step afterwards.
   */
  end(record: DeliveryRecord): void;
}

/**
 * The seam an observability integration plugs into, such as `otelInstrumentation()` from
 * `@kallima/webhooks/otel`. `startDelivery` and `end` are contained: what they throw cannot
 * change an answer (a delivery whose `startDelivery` threw goes on unobserved).
 */
export interface WebhookInstrumentation {
  /** A delivery arrived. What it returns observes that one delivery; `undefined` to skip it. */
  startDelivery(start: DeliveryStart): DeliveryObservation | undefined;
}

/** Ids whose deliveries are counted for `attempt`; the oldest is forgotten first. */
const MAX_COUNTED_IDS = 10_000;

/** Receiver-side attempt numbers: deliveries seen per event id, bounded. */
export class AttemptCounter {
  readonly #counts = new Map<string, number>();

  next(id: string): number {
    const count = (this.#counts.get(id) ?? 0) + 1;
    // Re-inserted so that the map's first entry is the id seen longest ago.
    this.#counts.delete(id);
    this.#counts.set(id, count);
    if (this.#counts.size > MAX_COUNTED_IDS) {
      this.#counts.delete(this.#counts.keys().next().value as string);
    }
    return count;
  }
}

/** One delivery being observed: its steps go to the instrumentation, its record to both. */
export interface DeliveryTracker {
  /** The instrumentation's observation, when there is one (steps are run through it). */
  readonly observation: DeliveryObservation | undefined;
  /** Verification succeeded: counts the attempt and keeps what the record needs. */
  verified(delivery: VerifiedDelivery): void;
  /** The delivery was answered with `result` (or, in verify mode, handed on when undefined). */
  finish(result: WebhookResult | undefined): void;
  /** `handle()` or `verify()` is about to reject: ends the observation all the same. */
  failed(): void;
}

/** Options of the handler that observation reads. */
export interface ObservingOptions {
  onDelivery: ((record: DeliveryRecord) => unknown) | undefined;
  instrumentation: WebhookInstrumentation | undefined;
  now: () => number;
}

function codeOf(result: WebhookResult): DeliveryCode | undefined {
  if (result.error) return result.error.code;
  if (result.outcome === "in_progress") return "event_in_progress";
  if (result.status === 405) return "method_not_allowed";
  return undefined;
}

/** Calls a user callback whose failure must never change an answer or crash the process. */
function contained<TArgument>(call: (argument: TArgument) => unknown, argument: TArgument): void {
  try {
    const value = call(argument);
    if (isPromiseLike(value)) Promise.resolve(value).catch(() => {});
  } catch {
    // Observing a delivery must not change what the sender is told.
  }
}

// `Date#toISOString` costs about a microsecond; deliveries within one second share its prefix.
let isoSecond = Number.NaN;
let isoPrefix = "";

/** `new Date(ms).toISOString()`, with the part up to the seconds kept from the last call. */
export function isoTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    // Throws a RangeError for a clock that is not a time, as toISOString does.
    const iso = new Date(second * 1000).toISOString();
    if (iso.length !== 24) return new Date(ms).toISOString();
    isoPrefix = iso.slice(0, 20);
    isoSecond = second;
  }
  const millis = Math.floor(ms - second * 1000);
  return `${isoPrefix}${millis < 10 ? "00" : millis < 100 ? "0" : ""}${millis}Z`;
}

/** What every tracker of one handler shares. */
interface TrackerSettings {
  onDelivery: ((record: DeliveryRecord) => unknown) | undefined;
  instrumentation: WebhookInstrumentation | undefined;
  now: () => number;
  attempts: AttemptCounter;
}

/** One delivery under observation, from arrival to its record. */
class Tracker implements DeliveryTracker {
  readonly observation: DeliveryObservation | undefined;
  readonly #settings: TrackerSettings;
  readonly #arrivedAt: number;
  readonly #started: number;
  #delivery: VerifiedDelivery | undefined;
  #attempt: number | undefined;
  #done = false;

  constructor(settings: TrackerSettings, mode: DeliveryMode) {
    this.#settings = settings;
    let arrivedAt: number;
    try {
      arrivedAt = settings.now();
    } catch {
      // No record then (its time is unknown), but the delivery goes on.
      arrivedAt = Number.NaN;
    }
    this.#arrivedAt = arrivedAt;
    this.#started = performance.now();
    let observation: DeliveryObservation | undefined;
    if (settings.instrumentation) {
      try {
        observation = settings.instrumentation.startDelivery({ mode }) ?? undefined;
      } catch {
        observation = undefined;
      }
    }
    this.observation = observation;
  }

  verified(delivery: VerifiedDelivery): void {
    this.#delivery = delivery;
    this.#attempt = this.#settings.attempts.next(delivery.event.id);
  }

  finish(result: WebhookResult | undefined): void {
    this.#emit(result, result ? result.outcome : "verified");
  }

  failed(): void {
    this.#emit(undefined, "error");
  }

  #emit(result: WebhookResult | undefined, outcome: DeliveryRecordOutcome): void {
    if (this.#done) return;
    this.#done = true;
    let record: DeliveryRecord;
    try {
      record = this.#record(result, outcome);
    } catch {
      // A clock that returns nonsense must not change an answer.
      return;
    }
    const { observation } = this;
    if (observation) contained((done) => observation.end(done), record);
    const { onDelivery } = this.#settings;
    if (onDelivery) contained(onDelivery, record);
  }

  #record(result: WebhookResult | undefined, outcome: DeliveryRecordOutcome): DeliveryRecord {
    const delivery = this.#delivery;
    const record: DeliveryRecord = {
      time: isoTime(this.#arrivedAt),
      outcome,
      durationMs: performance.now() - this.#started,
    };
    const event = result?.event ?? delivery?.event;
    if (event) {
      record.eventId = event.id;
      record.eventType = event.type;
    }
    if (result && outcome !== "error") {
      record.status = result.status;
      const code = codeOf(result);
      if (code !== undefined) record.code = code;
    }
    if (delivery) {
      record.secretIndex = delivery.secretIndex;
      record.format = delivery.format;
    }
    const signedAt =
      delivery?.signedAt ??
      (result?.error instanceof WebhookSignatureError ? result.error.signedAt : undefined);
    if (signedAt !== undefined) record.ageSeconds = (this.#arrivedAt - signedAt * 1000) / 1000;
    if (this.#attempt !== undefined) record.attempt = this.#attempt;
    return record;
  }
}

/**
 * Checks the observation options and returns what starts a tracker per delivery, or
 * `undefined` when nothing observes deliveries: the handler then takes its plain path, with no
 * clock read, no record built and no counter kept.
 */
export function createObserving(
  options: ObservingOptions,
): ((mode: DeliveryMode) => DeliveryTracker) | undefined {
  const { onDelivery, instrumentation, now } = options;
  if (onDelivery !== undefined && typeof onDelivery !== "function") {
    throw new WebhookConfigError("invalid_option", "onDelivery must be a function.");
  }
  if (
    instrumentation !== undefined &&
    (typeof instrumentation !== "object" ||
      instrumentation === null ||
      typeof instrumentation.startDelivery !== "function")
  ) {
    throw new WebhookConfigError(
      "invalid_option",
      "instrumentation must be an object with a startDelivery function, such as otelInstrumentation() from @kallima/webhooks/otel.",
    );
  }
  if (!onDelivery && !instrumentation) return undefined;
  const settings: TrackerSettings = {
    onDelivery,
    instrumentation,
    now,
    attempts: new AttemptCounter(),
  };
  return (mode) => new Tracker(settings, mode);
}
