// OpenTelemetry for Kallima webhooks: spans and metrics through `@opentelemetry/api`, an
// optional peer dependency. Only this entry point imports it; the main entry never does.
import {
  type Attributes,
  type Context,
  context,
  type Histogram,
  type Meter,
  metrics,
  type ObservableCounter,
  type ObservableResult,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { isPromiseLike } from "./dispatch.js";
import type {
  DeliveryObservation,
  DeliveryRecord,
  DeliveryStart,
  DeliveryStep,
  WebhookInstrumentation,
} from "./observe.js";

/** The instrumentation scope of the default tracer and meter. */
export const INSTRUMENTATION_SCOPE = "@kallima/webhooks";

/** Span names: one per delivery, a child per step. */
export const SPAN_NAMES = {
  delivery: "kallima.webhook.delivery",
  verify: "kallima.webhook.verify",
  claim: "kallima.webhook.claim",
  handler: "kallima.webhook.handler",
} as const;

/** Metric names (instrument kind and unit in the README's table). */
export const METRIC_NAMES = {
  deliveries: "kallima.webhook.deliveries",
  deliveryDuration: "kallima.webhook.delivery.duration",
  deliveryAge: "kallima.webhook.delivery.age",
  verificationFailures: "kallima.webhook.verification.failures",
  duplicates: "kallima.webhook.duplicates",
  handlerDuration: "kallima.webhook.handler.duration",
  activeDeliveries: "kallima.webhook.active_deliveries",
  secretMatches: "kallima.webhook.secret.matches",
} as const;

/**
 * Attribute names. `http.response.status_code` and `error.type` are OpenTelemetry's
 * semantic-convention attributes; the rest live under `kallima.webhook.`.
 */
export const ATTRIBUTE_NAMES = {
  eventId: "kallima.webhook.event.id",
  eventType: "kallima.webhook.event.type",
  outcome: "kallima.webhook.outcome",
  mode: "kallima.webhook.mode",
  statusCode: "http.response.status_code",
  errorType: "error.type",
  secretIndex: "kallima.webhook.secret.index",
  signatureFormat: "kallima.webhook.signature.format",
  age: "kallima.webhook.delivery.age",
  attempt: "kallima.webhook.delivery.attempt",
  durationMs: "kallima.webhook.delivery.duration_ms",
  claimStatus: "kallima.webhook.claim.status",
  handlerIndex: "kallima.webhook.handler.index",
} as const;

const A = ATTRIBUTE_NAMES;

/** Options of {@link otelInstrumentation}. */
export interface OtelInstrumentationOptions {
  /** Default: the global tracer provider's tracer named `@kallima/webhooks`. */
  tracer?: Tracer;
  /**
   * Default: the global meter provider's meter named `@kallima/webhooks`, looked up at the
   * first delivery (so that an SDK started after the handler was made is still used).
   */
  meter?: Meter;
}

// Seconds. OpenTelemetry's HTTP duration buckets, up to Kallima's 30-second timeout.
const DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 25, 30,
];
// Seconds: fresh deliveries, retries, and the 300 s replay window either side.
const AGE_BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/**
 * Cumulative sums per attribute set, reported by an observable counter when the SDK collects:
 * a delivery costs a map update instead of a synchronous measurement (about 2 µs each in the
 * SDK), and the exported series are the same monotonic sums.
 */
class Sums {
  readonly #points = new Map<string, { attributes: Attributes; value: number }>();

  add(key: string, attributes: Attributes, value = 1): void {
    const point = this.#points.get(key);
    if (point) point.value += value;
    else this.#points.set(key, { attributes, value });
  }

  observe(result: ObservableResult): void {
    for (const { attributes, value } of this.#points.values()) result.observe(value, attributes);
  }
}

interface Instruments {
  deliveries: Sums;
  verificationFailures: Sums;
  duplicates: Sums;
  secretMatches: Sums;
  active: { count: number };
  deliveryDuration: Histogram;
  deliveryAge: Histogram;
  handlerDuration: Histogram;
}

function sumsOf(counter: ObservableCounter): Sums {
  const sums = new Sums();
  counter.addCallback((result) => sums.observe(result));
  return sums;
}

function createInstruments(meter: Meter): Instruments {
  const active = { count: 0 };
  meter
    .createObservableUpDownCounter(METRIC_NAMES.activeDeliveries, {
      description: "Deliveries received and not yet answered.",
      unit: "{delivery}",
    })
    .addCallback((result) => result.observe(active.count));
  return {
    deliveries: sumsOf(
      meter.createObservableCounter(METRIC_NAMES.deliveries, {
        description: "Webhook deliveries received, by outcome, HTTP status and error code.",
        unit: "{delivery}",
      }),
    ),
    verificationFailures: sumsOf(
      meter.createObservableCounter(METRIC_NAMES.verificationFailures, {
        description:
          "Deliveries rejected before any handler ran (forged, stale, malformed, too large, unreadable, bad secret), by error code.",
        unit: "{delivery}",
      }),
    ),
    duplicates: sumsOf(
      meter.createObservableCounter(METRIC_NAMES.duplicates, {
        description:
          "Repeated deliveries of an event id: already handled (duplicate) or being handled (in_progress).",
        unit: "{delivery}",
      }),
    ),
    secretMatches: sumsOf(
      meter.createObservableCounter(METRIC_NAMES.secretMatches, {
        description:
          "Verified deliveries by the index of the configured secret that matched, to watch a rotation.",
        unit: "{delivery}",
      }),
    ),
    active,
    deliveryDuration: meter.createHistogram(METRIC_NAMES.deliveryDuration, {
      description: "Time from a delivery's arrival to its answer.",
      unit: "s",
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
    deliveryAge: meter.createHistogram(METRIC_NAMES.deliveryAge, {
      description:
        "Age of a delivery on arrival: arrival time minus its signed timestamp (negative ages are recorded as 0).",
      unit: "s",
      advice: { explicitBucketBoundaries: AGE_BUCKETS },
    }),
    handlerDuration: meter.createHistogram(METRIC_NAMES.handlerDuration, {
      description: "Time one event handler ran, until it returned or its promise settled.",
      unit: "s",
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
  };
}

// One set of instruments and sums per meter, however many instrumentations share it: two
// callbacks observing the same series would not add up.
const INSTRUMENTS = new WeakMap<Meter, Instruments>();

function instrumentsFor(meter: Meter): Instruments {
  let instruments = INSTRUMENTS.get(meter);
  if (!instruments) {
    instruments = createInstruments(meter);
    INSTRUMENTS.set(meter, instruments);
  }
  return instruments;
}

/** The low-cardinality attributes every delivery metric shares. */
function outcomeAttributes(record: DeliveryRecord): Attributes {
  const attributes: Attributes = { [A.outcome]: record.outcome };
  if (record.status !== undefined) attributes[A.statusCode] = record.status;
  if (record.code !== undefined) attributes[A.errorType] = record.code;
  if (record.eventType !== undefined) attributes[A.eventType] = record.eventType;
  return attributes;
}

function spanAttributes(record: DeliveryRecord): Attributes {
  const attributes = outcomeAttributes(record);
  if (record.eventId !== undefined) attributes[A.eventId] = record.eventId;
  if (record.secretIndex !== undefined) attributes[A.secretIndex] = record.secretIndex;
  if (record.format !== undefined) attributes[A.signatureFormat] = record.format;
  if (record.ageSeconds !== undefined) attributes[A.age] = record.ageSeconds;
  if (record.attempt !== undefined) attributes[A.attempt] = record.attempt;
  attributes[A.durationMs] = record.durationMs;
  return attributes;
}

/** An error's stable code when it is one of this library's (or has a string code), else its class. */
function errorTypeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code !== "") return code;
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === "string" && name !== "" ? name : "Error";
}

const STEP_SPAN: Record<DeliveryStep["name"], string> = {
  verify: SPAN_NAMES.verify,
  claim: SPAN_NAMES.claim,
  handler: SPAN_NAMES.handler,
};

function stepAttributes(step: DeliveryStep): Attributes | undefined {
  switch (step.name) {
    case "verify":
      return undefined;
    case "claim":
      return { [A.eventId]: step.eventId, [A.eventType]: step.eventType };
    case "handler":
      return { [A.eventType]: step.eventType, [A.handlerIndex]: step.index };
  }
}

/**
 * OpenTelemetry traces and metrics for a webhook handler: a span per delivery with a child span
 * per step (verification, the dedupe claim, each handler), and the delivery metrics. Spans
 * started inside a handler nest under its span when a context manager is registered (the
 * Node SDK registers one).
 *
 * No attribute, span name or metric label ever holds the secret, a signature or the body, nor
 * an error's message (a handler's error goes to `onError` and the logger): only codes.
 *
 * @example
 * ```ts
 * import { otelInstrumentation } from "@kallima/webhooks/otel";
 * const webhooks = createWebhookHandler({ secret, instrumentation: otelInstrumentation() });
 * ```
 */
export function otelInstrumentation(
  options: OtelInstrumentationOptions = {},
): WebhookInstrumentation {
  let tracer = options.tracer;
  let instruments: Instruments | undefined;
  const tracerOf = () => {
    tracer ??= trace.getTracer(INSTRUMENTATION_SCOPE);
    return tracer;
  };
  const instrumentsOf = () => {
    instruments ??= instrumentsFor(options.meter ?? metrics.getMeter(INSTRUMENTATION_SCOPE));
    return instruments;
  };

  return {
    startDelivery(start: DeliveryStart): DeliveryObservation {
      const spans = tracerOf();
      const meters = instrumentsOf();
      const parent = context.active();
      const span = spans.startSpan(
        SPAN_NAMES.delivery,
        { kind: SpanKind.INTERNAL, attributes: { [A.mode]: start.mode } },
        parent,
      );
      const within = trace.setSpan(parent, span);
      meters.active.count += 1;
      return {
        step: (step, run) => runStep(spans, meters, within, step, run),
        end(record) {
          meters.active.count -= 1;
          span.setAttributes(spanAttributes(record));
          // As OpenTelemetry's HTTP server conventions do: 4xx (the sender's fault) leaves the
          // span's status unset; 5xx and a rejected handle() are errors.
          if (record.outcome === "error" || (record.status !== undefined && record.status >= 500)) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: record.code ?? record.outcome });
          }
          span.end();
          recordMetrics(meters, record);
        },
      };
    },
  };
}

// Joins the parts of a series key; no event type or code holds it.
const SEP = "\u0000";

function recordMetrics(meters: Instruments, record: DeliveryRecord): void {
  const attributes = outcomeAttributes(record);
  const { outcome, status, code, eventType } = record;
  meters.deliveries.add(`${outcome}${SEP}${status}${SEP}${code}${SEP}${eventType}`, attributes);
  meters.deliveryDuration.record(record.durationMs / 1000, attributes);
  if (record.ageSeconds !== undefined) {
    meters.deliveryAge.record(Math.max(0, record.ageSeconds), attributes);
  }
  if (outcome === "rejected" && code !== "method_not_allowed") {
    const type = code ?? "unknown";
    meters.verificationFailures.add(type, { [A.errorType]: type });
  }
  if (outcome === "duplicate" || outcome === "in_progress") {
    const labels: Attributes = { [A.outcome]: outcome };
    if (eventType !== undefined) labels[A.eventType] = eventType;
    meters.duplicates.add(`${outcome}${SEP}${eventType}`, labels);
  }
  if (record.secretIndex !== undefined) {
    const labels: Attributes = { [A.secretIndex]: record.secretIndex };
    if (record.format !== undefined) labels[A.signatureFormat] = record.format;
    meters.secretMatches.add(`${record.secretIndex}${SEP}${record.format}`, labels);
  }
}

/**
 * Runs one step in its span, made the active one. Whatever the tracer or meter throws is
 * contained: `run` is called exactly once and its value or error is what the core sees.
 */
function runStep<T>(
  tracer: Tracer,
  meters: Instruments,
  parent: Context,
  step: DeliveryStep,
  run: () => T,
): T {
  let span: ReturnType<Tracer["startSpan"]>;
  let active: Context;
  try {
    span = tracer.startSpan(
      STEP_SPAN[step.name],
      { kind: SpanKind.INTERNAL, attributes: stepAttributes(step) },
      parent,
    );
    active = trace.setSpan(parent, span);
  } catch {
    return run();
  }
  const started = step.name === "handler" ? performance.now() : 0;
  const end = (failure: { error: unknown } | undefined, value?: unknown) => {
    try {
      if (failure) {
        const type =
          step.name === "handler"
            ? "handler_failed"
            : step.name === "claim"
              ? "idempotency_store_unavailable"
              : errorTypeOf(failure.error);
        span.setAttribute(A.errorType, type);
        span.setStatus({ code: SpanStatusCode.ERROR, message: type });
      } else if (step.name === "claim") {
        const status = (value as { status?: unknown } | null)?.status;
        if (typeof status === "string") span.setAttribute(A.claimStatus, status);
      }
      span.end();
      if (step.name === "handler") {
        const attributes: Attributes = {
          [A.eventType]: step.eventType,
          [A.handlerIndex]: step.index,
        };
        if (failure) attributes[A.errorType] = "handler_failed";
        meters.handlerDuration.record((performance.now() - started) / 1000, attributes);
      }
    } catch {
      // A broken exporter or meter must not change what the step returned.
    }
  };
  let called = false;
  let value: T;
  try {
    value = context.with(active, () => {
      called = true;
      return run();
    });
  } catch (error) {
    // The context manager failed before running the step: run it outside its span.
    if (!called) return run();
    end({ error });
    throw error;
  }
  if (!isPromiseLike(value)) {
    end(undefined, value);
    return value;
  }
  return Promise.resolve(value).then(
    (settled) => {
      end(undefined, settled);
      return settled;
    },
    (error: unknown) => {
      end({ error });
      throw error;
    },
  ) as T;
}

export type {
  DeliveryObservation,
  DeliveryRecord,
  DeliveryStart,
  DeliveryStep,
  WebhookInstrumentation,
} from "./observe.js";
