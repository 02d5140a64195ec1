// The core's delivery records (onDelivery) and its OpenTelemetry integration (@kallima/webhooks/otel,
// on the real @opentelemetry/api) on whatever runtime loads this file. The tracer and meter are
// small recorders written here, so that no SDK is needed: what is checked is that the subpath
// loads, that spans nest through the API's context, and that records, spans and measurements say
// what happened, without the secret, a signature or the body.
import { createWebhookHandler } from "@kallima/webhooks";
import { otelInstrumentation } from "@kallima/webhooks/otel";
import { signPayload } from "@kallima/webhooks/testing";
import { trace } from "@opentelemetry/api";

const SECRET = "whsec_runtimeObservabilitySecret_0123456789";
const OTHER = "whsec_runtimeObservabilityOther_01234567890";
const MARKER = "BODY_MARKER_never_exported";

function recordingTracer() {
  const spans = [];
  const tracer = {
    startSpan(name, options = {}, context) {
      const span = {
        name,
        parent: context ? trace.getSpan(context)?.name : undefined,
        attributes: { ...options.attributes },
        status: undefined,
        ended: false,
        setAttribute(key, value) {
          span.attributes[key] = value;
          return span;
        },
        setAttributes(values) {
          Object.assign(span.attributes, values);
          return span;
        },
        setStatus(status) {
          span.status = status;
          return span;
        },
        end() {
          span.ended = true;
        },
        spanContext: () => ({
          traceId: `${"0".repeat(31)}1`,
          spanId: `${"0".repeat(15)}1`,
          traceFlags: 1,
        }),
        isRecording: () => true,
        addEvent: () => span,
        recordException: () => {},
        updateName: () => span,
      };
      spans.push(span);
      return span;
    },
  };
  return { tracer, spans };
}

function recordingMeter() {
  const callbacks = new Map();
  const recorded = [];
  const observable = (name) => ({
    addCallback: (callback) => callbacks.set(name, callback),
    removeCallback: () => {},
  });
  const meter = {
    createObservableCounter: observable,
    createObservableUpDownCounter: observable,
    createHistogram: (name) => ({
      record: (value, attributes) => recorded.push({ name, value, attributes }),
    }),
  };
  const collect = () => {
    const points = [];
    for (const [name, callback] of callbacks) {
      callback({ observe: (value, attributes) => points.push({ name, value, attributes }) });
    }
    return points;
  };
  return { meter, recorded, collect };
}

export async function checkObservability() {
  const failures = [];
  const expect = (label, ok) => {
    if (!ok) failures.push(label);
  };
  const { tracer, spans } = recordingTracer();
  const { meter, recorded, collect } = recordingMeter();
  const records = [];
  const handler = createWebhookHandler({
    secret: SECRET,
    logger: false,
    onDelivery: (record) => void records.push(record),
    instrumentation: otelInstrumentation({ tracer, meter }),
    on: { "job.completed": () => {} },
  });
  const payload = {
    id: "evt_runtime_observed",
    type: "job.completed",
    api_version: "2026-04-23",
    created_at: "2026-04-23T10:00:00+00:00",
    data: { id: "job_1", status: "completed", note: MARKER },
  };
  const valid = await signPayload({ secret: SECRET, payload });
  const forged = await signPayload({ secret: OTHER, payload });
  const answers = [];
  for (const delivery of [valid, valid, forged]) {
    const result = await handler.handle({ headers: delivery.headers, rawBody: delivery.body });
    answers.push(`${result.status} ${result.outcome}`);
  }
  expect(
    `answers: ${answers.join(", ")}`,
    answers.join() === "200 handled,200 duplicate,401 rejected",
  );
  expect(
    `records: ${records.map((r) => `${r.outcome}/${r.attempt}/${r.code}`).join(", ")}`,
    records.map((r) => `${r.outcome}/${r.attempt}/${r.code}`).join() ===
      "handled/1/undefined,duplicate/2/undefined,rejected/undefined/invalid_signature",
  );
  const deliveries = spans.filter((span) => span.name === "kallima.webhook.delivery");
  expect(
    `delivery spans: ${deliveries.length}`,
    deliveries.length === 3 && deliveries.every((s) => s.ended),
  );
  const children = spans
    .filter((span) => span.parent === "kallima.webhook.delivery")
    .map((span) => span.name.replace("kallima.webhook.", ""));
  expect(
    `child spans: ${children.join(", ")}`,
    children.join() === "verify,claim,handler,verify,claim,verify",
  );
  expect(
    `first delivery span: ${JSON.stringify(deliveries[0]?.attributes)}`,
    deliveries[0]?.attributes["kallima.webhook.event.id"] === "evt_runtime_observed" &&
      deliveries[0]?.attributes["http.response.status_code"] === 200,
  );
  expect(
    `forged delivery span: ${JSON.stringify(deliveries[2]?.attributes)}`,
    deliveries[2]?.attributes["error.type"] === "invalid_signature",
  );
  const points = collect();
  const count = (name, filter = () => true) =>
    points
      .filter((p) => p.name === name && filter(p.attributes ?? {}))
      .reduce((sum, p) => sum + p.value, 0);
  expect("deliveries counter", count("kallima.webhook.deliveries") === 3);
  expect("duplicates counter", count("kallima.webhook.duplicates") === 1);
  expect("verification failures counter", count("kallima.webhook.verification.failures") === 1);
  expect("active deliveries back to 0", count("kallima.webhook.active_deliveries") === 0);
  expect(
    "handler duration recorded once",
    recorded.filter((m) => m.name === "kallima.webhook.handler.duration").length === 1,
  );
  const exported = JSON.stringify({ records, spans, points, recorded });
  for (const leak of [SECRET, OTHER, MARKER, valid.signature, forged.signature]) {
    expect(`leaked ${leak.slice(0, 12)}…`, !exported.includes(leak));
  }
  return { total: 11, failures };
}
