// The core's delivery records (onDelivery) and its OpenTelemetry integration
// (@kallima/webhooks/otel, on the real @opentelemetry/api the app installed) on whatever runtime
// loads this file. The tracer and meter are small recorders written here, so that no SDK is
// needed: what is checked is that the subpath loads, that spans nest through the API's context,
// and that records, spans and measurements say what happened, without the secret, a signature
// or the body. The deliveries are signed on the host by the shared independent signer, never by
// the core under test (observed-deliveries.ts).
import { createWebhookHandler, type DeliveryRecord } from "@kallima/webhooks";
import { otelInstrumentation } from "@kallima/webhooks/otel";
import {
  type Attributes,
  type AttributeValue,
  type Context,
  type Meter,
  type ObservableCallback,
  type ObservableResult,
  type Span,
  type SpanOptions,
  type SpanStatus,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import {
  OBSERVED_BODY_MARKER,
  OBSERVED_EVENT_ID,
  OBSERVED_OTHER_SECRET,
  OBSERVED_SECRET,
  OBSERVED_TIMESTAMP,
  type ObservedDeliveries,
  type WireDelivery,
} from "./observed-deliveries.js";

/** How many of the checks passed, and a line per failing one. */
export interface ObservabilityReport {
  total: number;
  failures: string[];
}

interface RecordedSpan {
  name: string;
  /** The name of the span the context handed to startSpan carried, found through the API. */
  parent: string | undefined;
  attributes: Attributes;
  status: SpanStatus | undefined;
  ended: boolean;
}

interface Measurement {
  name: string;
  value: number;
  attributes: Attributes | undefined;
}

/** A tracer that keeps every span it starts. */
function recordingTracer(): { tracer: Tracer; spans: RecordedSpan[] } {
  const spans: RecordedSpan[] = [];
  const startSpan = (name: string, options: SpanOptions = {}, context?: Context): Span => {
    const recorded: RecordedSpan = {
      name,
      parent: context ? (trace.getSpan(context) as { name?: string } | undefined)?.name : undefined,
      attributes: { ...options.attributes },
      status: undefined,
      ended: false,
    };
    spans.push(recorded);
    // The span object itself carries `name`, so that a child's startSpan can read its parent.
    const span: Span & { name: string } = {
      name,
      setAttribute(key: string, value: AttributeValue) {
        recorded.attributes[key] = value;
        return span;
      },
      setAttributes(values: Attributes) {
        Object.assign(recorded.attributes, values);
        return span;
      },
      setStatus(status: SpanStatus) {
        recorded.status = status;
        return span;
      },
      end() {
        recorded.ended = true;
      },
      spanContext: () => ({
        traceId: `${"0".repeat(31)}1`,
        spanId: `${"0".repeat(15)}1`,
        traceFlags: 1,
      }),
      isRecording: () => true,
      addEvent: () => span,
      addLink: () => span,
      addLinks: () => span,
      recordException: () => {},
      updateName: () => span,
    };
    return span;
  };
  const tracer: Tracer = {
    startSpan,
    startActiveSpan: (() => {
      throw new Error("startActiveSpan is not expected of the core");
    }) as Tracer["startActiveSpan"],
  };
  return { tracer, spans };
}

/** A meter that keeps histogram values and collects the observable instruments on demand. */
function recordingMeter(): {
  meter: Meter;
  recorded: Measurement[];
  collect: () => Measurement[];
} {
  const callbacks = new Map<string, ObservableCallback[]>();
  const recorded: Measurement[] = [];
  const observable = (name: string) => ({
    addCallback: (callback: ObservableCallback) => {
      callbacks.set(name, [...(callbacks.get(name) ?? []), callback]);
    },
    removeCallback: () => {},
  });
  const unexpected = (kind: string) => () => {
    throw new Error(`${kind} is not expected of the core`);
  };
  const meter = {
    createObservableCounter: observable,
    createObservableUpDownCounter: observable,
    createObservableGauge: observable,
    createHistogram: (name: string) => ({
      record: (value: number, attributes?: Attributes) =>
        void recorded.push({ name, value, attributes }),
    }),
    createCounter: unexpected("createCounter"),
    createUpDownCounter: unexpected("createUpDownCounter"),
    createGauge: unexpected("createGauge"),
    addBatchObservableCallback: unexpected("addBatchObservableCallback"),
    removeBatchObservableCallback: unexpected("removeBatchObservableCallback"),
  } as unknown as Meter;
  const collect = (): Measurement[] => {
    const points: Measurement[] = [];
    for (const [name, list] of callbacks) {
      for (const callback of list) {
        const result: ObservableResult = {
          observe: (value: number, attributes?: Attributes) =>
            void points.push({ name, value, attributes }),
        };
        void callback(result);
      }
    }
    return points;
  };
  return { meter, recorded, collect };
}

const bytesOf = (base64: string): Uint8Array =>
  Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));

/** The hex signatures a delivery's headers carry, in either format. */
const signaturesOf = (delivery: WireDelivery): string[] =>
  Object.entries(delivery.headers)
    .filter(([name]) => /^(x-kallima-signature|kallima-signature)$/i.test(name))
    .flatMap(([, value]) => value.split(","))
    .map((item) => item.trim().replace(/^v1=/, ""))
    .filter((item) => /^[0-9a-f]{64}$/.test(item));

const isDelivery = (value: unknown): value is WireDelivery =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as WireDelivery).body_b64 === "string" &&
  typeof (value as WireDelivery).headers === "object";

/**
 * Three deliveries through one handler with records and the otel instrumentation: the valid one,
 * it again (a duplicate), and the forged one. Every check that fails is a line of the report.
 */
export async function checkObservability(
  input: Partial<ObservedDeliveries>,
): Promise<ObservabilityReport> {
  const { valid, forged } = input;
  if (!isDelivery(valid) || !isDelivery(forged)) {
    return { total: 1, failures: ["no signed deliveries were handed to the runtime"] };
  }
  let total = 0;
  const failures: string[] = [];
  const expect = (label: string, ok: boolean) => {
    total += 1;
    if (!ok) failures.push(label);
  };
  const { tracer, spans } = recordingTracer();
  const { meter, recorded, collect } = recordingMeter();
  const records: DeliveryRecord[] = [];
  const handler = createWebhookHandler({
    secret: OBSERVED_SECRET,
    now: () => OBSERVED_TIMESTAMP * 1000,
    logger: false,
    onDelivery: (record) => void records.push(record),
    instrumentation: otelInstrumentation({ tracer, meter }),
    on: { "job.completed": () => {} },
  });
  const answers: string[] = [];
  for (const delivery of [valid, valid, forged]) {
    const result = await handler.handle({
      headers: delivery.headers,
      rawBody: bytesOf(delivery.body_b64),
    });
    answers.push(`${result.status} ${result.outcome}`);
  }
  expect(
    `answers: ${answers.join(", ")}`,
    answers.join() === "200 handled,200 duplicate,401 rejected",
  );
  const recordLine = records.map((r) => `${r.outcome}/${r.attempt}/${r.code}`).join();
  expect(
    `records: ${recordLine}`,
    recordLine === "handled/1/undefined,duplicate/2/undefined,rejected/undefined/invalid_signature",
  );
  const deliveries = spans.filter((span) => span.name === "kallima.webhook.delivery");
  expect(
    `delivery spans: ${deliveries.length}, ended: ${deliveries.filter((s) => s.ended).length}`,
    deliveries.length === 3 && deliveries.every((span) => span.ended),
  );
  const children = spans
    .filter((span) => span.parent === "kallima.webhook.delivery")
    .map((span) => span.name.replace("kallima.webhook.", ""));
  expect(
    `child spans: ${children.join(", ")}`,
    children.join() === "verify,claim,handler,verify,claim,verify",
  );
  expect(
    `every span ended: ${spans.filter((span) => !span.ended).map((span) => span.name)}`,
    spans.every((span) => span.ended),
  );
  expect(
    `first delivery span: ${JSON.stringify(deliveries[0]?.attributes)}`,
    deliveries[0]?.attributes["kallima.webhook.event.id"] === OBSERVED_EVENT_ID &&
      deliveries[0]?.attributes["http.response.status_code"] === 200,
  );
  expect(
    `forged delivery span: ${JSON.stringify(deliveries[2]?.attributes)}`,
    deliveries[2]?.attributes["error.type"] === "invalid_signature",
  );
  const points = collect();
  const count = (name: string) =>
    points.filter((point) => point.name === name).reduce((sum, point) => sum + point.value, 0);
  const counter = (label: string, name: string, want: number) => {
    const got = count(name);
    expect(`${label}: ${got}, expected ${want}`, got === want);
  };
  counter("deliveries counter", "kallima.webhook.deliveries", 3);
  counter("duplicates counter", "kallima.webhook.duplicates", 1);
  counter("verification failures counter", "kallima.webhook.verification.failures", 1);
  counter("active deliveries", "kallima.webhook.active_deliveries", 0);
  const handlerDurations = recorded.filter(
    (measurement) => measurement.name === "kallima.webhook.handler.duration",
  ).length;
  expect(`handler duration recorded ${handlerDurations} times`, handlerDurations === 1);
  const exported = JSON.stringify({ records, spans, points, recorded });
  const secrets: [string, string][] = [
    ["the secret", OBSERVED_SECRET],
    ["the other secret", OBSERVED_OTHER_SECRET],
    ["the body", OBSERVED_BODY_MARKER],
  ];
  const signatures = [...signaturesOf(valid), ...signaturesOf(forged)];
  expect(`signatures in the deliveries: ${signatures.length}`, signatures.length === 2);
  for (const [index, signature] of signatures.entries()) {
    secrets.push([`signature ${index + 1}`, signature]);
  }
  for (const [label, secret] of secrets) {
    expect(`leaked ${label} (${secret.slice(0, 12)}…)`, !exported.includes(secret));
  }
  return { total, failures };
}
