import { context, type Span, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWebhookHandler, type DeliveryRecord } from "./index.js";
import {
  ATTRIBUTE_NAMES as A,
  METRIC_NAMES as M,
  otelInstrumentation,
  SPAN_NAMES,
} from "./otel.js";
import {
  expectNoLeaks,
  OLD_SECRET,
  SCENARIOS,
  SECRET,
  SIGNED_AGE_SECONDS,
  signed,
} from "./test-support/deliveries.js";

/** An SDK per test: in-memory span and metric exporters, and the instrumentation wired to them. */
function harness() {
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(spanExporter)],
  });
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({
    exporter: metricExporter,
    exportIntervalMillis: 3_600_000,
  });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const tracer = tracerProvider.getTracer("test");
  const instrumentation = otelInstrumentation({ tracer, meter: meterProvider.getMeter("test") });
  return {
    tracer,
    instrumentation,
    spans: () => spanExporter.getFinishedSpans(),
    async metrics(): Promise<MetricData[]> {
      await reader.forceFlush();
      const exported = metricExporter.getMetrics().at(-1);
      return exported?.scopeMetrics.flatMap((scope) => scope.metrics) ?? [];
    },
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

type Attributes = Record<string, unknown>;
const matches = (attributes: Attributes, wanted: Attributes) =>
  Object.entries(wanted).every(([key, value]) => attributes[key] === value);

/** The sum of a counter's points (or a histogram's counts) whose attributes include `wanted`. */
function total(all: MetricData[], name: string, wanted: Attributes = {}): number {
  const metric = all.find((each) => each.descriptor.name === name);
  if (!metric) return 0;
  let sum = 0;
  for (const point of metric.dataPoints) {
    if (!matches(point.attributes, wanted)) continue;
    const value = point.value as number | { count: number };
    sum += typeof value === "number" ? value : value.count;
  }
  return sum;
}

function points(all: MetricData[], name: string) {
  return all.find((each) => each.descriptor.name === name)?.dataPoints ?? [];
}

const deliverySpans = (spans: ReadableSpan[]) =>
  spans.filter((span) => span.name === SPAN_NAMES.delivery);
const childrenOf = (spans: ReadableSpan[], parent: ReadableSpan) =>
  spans
    .filter((span) => span.parentSpanContext?.spanId === parent.spanContext().spanId)
    .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);

// Spans made inside a handler nest under its span once a context manager is registered (the
// Node SDK registers this one).
const contextManager = new AsyncLocalStorageContextManager();
beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(() => {
  context.disable();
});

describe("otelInstrumentation: every outcome, in spans and metrics", () => {
  it.each(SCENARIOS)("$name", async (scenario) => {
    const otel = harness();
    const records: DeliveryRecord[] = [];
    const result = await scenario.run({
      instrumentation: otel.instrumentation,
      onDelivery: (record) => void records.push(record),
    });
    const { expected } = scenario;
    const spans = otel.spans();
    const delivery = deliverySpans(spans).at(-1)!;
    expect(delivery).toBeDefined();
    const attributes = delivery.attributes;
    expect(attributes[A.outcome]).toBe(expected.outcome);
    expect(attributes[A.statusCode]).toBe(expected.status);
    expect(attributes[A.errorType]).toBe(expected.code);
    expect(attributes[A.mode]).toBe("handle");
    expect(attributes[A.durationMs]).toBe(records.at(-1)!.durationMs);
    expect(delivery.status.code).toBe(
      (expected.status ?? 0) >= 500 ? SpanStatusCode.ERROR : SpanStatusCode.UNSET,
    );
    if (expected.verified) {
      expect(attributes[A.eventId]).toBe(result.event!.id);
      expect(attributes[A.eventType]).toBe("job.completed");
      expect(attributes[A.secretIndex]).toBe(0);
      expect(attributes[A.signatureFormat]).toBe(result.format);
      expect(attributes[A.age]).toBe(SIGNED_AGE_SECONDS);
      expect(attributes[A.attempt]).toBe(expected.attempt ?? 1);
    } else {
      for (const key of [A.eventId, A.eventType, A.secretIndex, A.attempt]) {
        expect(attributes[key]).toBeUndefined();
      }
    }

    const children = childrenOf(spans, delivery);
    expect(children.map((span) => span.name)).toEqual(
      expected.steps.map((step) => SPAN_NAMES[step]),
    );
    const verify = children.find((span) => span.name === SPAN_NAMES.verify);
    if (verify && !expected.verified) {
      expect(verify.attributes[A.errorType]).toBe(expected.code);
      expect(verify.status.code).toBe(SpanStatusCode.ERROR);
    }
    const claim = children.find((span) => span.name === SPAN_NAMES.claim);
    if (claim) {
      expect(claim.attributes[A.eventId]).toBe(result.event!.id);
      const status = { duplicate: "done", in_progress: "in_progress" }[expected.outcome as string];
      if (expected.outcome === "store_unavailable") {
        expect(claim.attributes[A.errorType]).toBe("idempotency_store_unavailable");
      } else {
        expect(claim.attributes[A.claimStatus]).toBe(status ?? "claimed");
      }
    }
    const handlerSpan = children.find((span) => span.name === SPAN_NAMES.handler);
    if (handlerSpan) {
      expect(handlerSpan.attributes[A.handlerIndex]).toBe(0);
      expect(handlerSpan.attributes[A.errorType]).toBe(
        expected.outcome === "handler_failed" ? "handler_failed" : undefined,
      );
    }

    const metrics = await otel.metrics();
    const labels: Attributes = { [A.outcome]: expected.outcome, [A.statusCode]: expected.status };
    if (expected.code) labels[A.errorType] = expected.code;
    expect(total(metrics, M.deliveries, labels)).toBe(1);
    expect(total(metrics, M.deliveryDuration, labels)).toBe(1);
    expect(total(metrics, M.activeDeliveries)).toBe(0);
    const rejectedBeforeHandlers =
      expected.outcome === "rejected" && expected.code !== "method_not_allowed";
    expect(total(metrics, M.verificationFailures, { [A.errorType]: expected.code })).toBe(
      rejectedBeforeHandlers ? 1 : 0,
    );
    expect(total(metrics, M.duplicates, { [A.outcome]: expected.outcome })).toBe(
      expected.outcome === "duplicate" || expected.outcome === "in_progress" ? 1 : 0,
    );
    expect(total(metrics, M.handlerDuration)).toBe(
      expected.steps.filter((step) => step === "handler").length +
        (expected.outcome === "duplicate" ? 1 : 0),
    );
    if (expected.verified) {
      expect(total(metrics, M.deliveryAge, labels)).toBe(1);
      expect(total(metrics, M.secretMatches, { [A.secretIndex]: 0 })).toBeGreaterThan(0);
    }

    expectNoLeaks({
      spans: spans.map((span) => ({
        name: span.name,
        attributes: span.attributes,
        status: span.status,
        events: span.events,
        links: span.links,
        resource: span.resource.attributes,
      })),
      metrics,
      records,
    });
    await otel.shutdown();
  });

  it("nests the delivery under the caller's span and a handler's own spans under its span", async () => {
    const otel = harness();
    let inner: Span | undefined;
    const handler = createWebhookHandler({
      secret: SECRET,
      instrumentation: otel.instrumentation,
      on: {
        "job.completed": async () => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          inner = otel.tracer.startSpan("save result");
          inner.end();
        },
      },
    });
    const request = await signed({ timestamp: Math.floor(Date.now() / 1000) });
    await otel.tracer.startActiveSpan("POST /kallima-events", async (server) => {
      await handler.handle(request);
      server.end();
    });
    const spans = otel.spans();
    const byName = (name: string) => spans.find((span) => span.name === name)!;
    const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
    expect(parentOf(byName(SPAN_NAMES.delivery))).toBe(
      byName("POST /kallima-events").spanContext().spanId,
    );
    expect(parentOf(byName("save result"))).toBe(byName(SPAN_NAMES.handler).spanContext().spanId);
    expect(inner).toBeDefined();
    await otel.shutdown();
  });

  it("ends a handler's span when it settles, after the delivery answered at the deadline", async () => {
    const otel = harness();
    let finish!: () => void;
    const handler = createWebhookHandler({
      secret: SECRET,
      deadlineMs: 20,
      logger: false,
      instrumentation: otel.instrumentation,
      on: {
        "job.completed": () =>
          new Promise<void>((resolve) => {
            finish = resolve;
          }),
      },
    });
    const result = await handler.handle(await signed({ timestamp: Math.floor(Date.now() / 1000) }));
    expect(result.outcome).toBe("handler_timeout");
    expect(otel.spans().map((span) => span.name)).toEqual([
      SPAN_NAMES.verify,
      SPAN_NAMES.claim,
      SPAN_NAMES.delivery,
    ]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    finish();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const handlerSpan = otel.spans().find((span) => span.name === SPAN_NAMES.handler)!;
    const delivery = otel.spans().find((span) => span.name === SPAN_NAMES.delivery)!;
    expect(handlerSpan).toBeDefined();
    const ms = (time: [number, number]) => time[0] * 1000 + time[1] / 1e6;
    expect(ms(handlerSpan.endTime)).toBeGreaterThan(ms(delivery.endTime));
    const metrics = await otel.metrics();
    const histogram = metrics.find((metric) => metric.descriptor.name === M.handlerDuration);
    expect(histogram?.dataPointType).toBe(DataPointType.HISTOGRAM);
    const [point] = points(metrics, M.handlerDuration);
    expect((point!.value as { sum: number }).sum).toBeGreaterThanOrEqual(0.04);
    await otel.shutdown();
  });

  it("counts deliveries per matched secret, to see when an old secret stopped being used", async () => {
    const otel = harness();
    const handler = createWebhookHandler({
      secret: [SECRET, OLD_SECRET],
      instrumentation: otel.instrumentation,
    });
    const now = Math.floor(Date.now() / 1000);
    await handler.handle(await signed({ secret: OLD_SECRET, timestamp: now }));
    await handler.handle(
      await signed({ secret: OLD_SECRET, timestamp: now, format: "kallima-signature" }),
    );
    await handler.handle(await signed({ timestamp: now }));
    const metrics = await otel.metrics();
    expect(total(metrics, M.secretMatches, { [A.secretIndex]: 1 })).toBe(2);
    expect(
      total(metrics, M.secretMatches, {
        [A.secretIndex]: 1,
        [A.signatureFormat]: "kallima-signature",
      }),
    ).toBe(1);
    expect(total(metrics, M.secretMatches, { [A.secretIndex]: 0 })).toBe(1);
    await otel.shutdown();
  });

  it("traces verify-only deliveries with mode verify and outcome verified", async () => {
    const otel = harness();
    const handler = createWebhookHandler({
      secret: SECRET,
      logger: false,
      instrumentation: otel.instrumentation,
    });
    const outcome = await handler.verify(
      await signed({ timestamp: Math.floor(Date.now() / 1000) }),
    );
    expect(outcome.ok).toBe(true);
    const [verify, delivery] = otel.spans();
    expect([verify?.name, delivery?.name]).toEqual([SPAN_NAMES.verify, SPAN_NAMES.delivery]);
    expect(delivery!.attributes).toMatchObject({ [A.mode]: "verify", [A.outcome]: "verified" });
    expect(delivery!.attributes[A.statusCode]).toBeUndefined();
    const metrics = await otel.metrics();
    expect(total(metrics, M.deliveries, { [A.outcome]: "verified" })).toBe(1);
    await otel.shutdown();
  });

  it("marks a handle() that rejected as an error and still ends its span", async () => {
    const otel = harness();
    const handler = createWebhookHandler({
      secret: () => {
        throw new TypeError(`no env ${SECRET}`);
      },
      instrumentation: otel.instrumentation,
    });
    await expect(handler.handle(await signed())).rejects.toThrow(TypeError);
    const [verify, delivery] = otel.spans();
    expect(verify!.attributes[A.errorType]).toBe("TypeError");
    expect(delivery!.attributes[A.outcome]).toBe("error");
    expect(delivery!.status.code).toBe(SpanStatusCode.ERROR);
    expect(total(await otel.metrics(), M.activeDeliveries)).toBe(0);
    expectNoLeaks({
      spans: otel.spans().map((span) => [span.attributes, span.status, span.events]),
    });
    await otel.shutdown();
  });

  it("counts deliveries in flight while they run", async () => {
    const otel = harness();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const handler = createWebhookHandler({
      secret: SECRET,
      instrumentation: otel.instrumentation,
      on: { "job.completed": () => gate },
    });
    const now = Math.floor(Date.now() / 1000);
    const running = [
      handler.handle(await signed({ timestamp: now })),
      handler.handle(await signed({ timestamp: now })),
    ];
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(total(await otel.metrics(), M.activeDeliveries)).toBe(2);
    release();
    await Promise.all(running);
    expect(total(await otel.metrics(), M.activeDeliveries)).toBe(0);
    await otel.shutdown();
  });

  it("never lets a broken tracer or meter change an answer", async () => {
    const otel = harness();
    const throwing = () => {
      throw new Error("exporter down");
    };
    const brokenTracer = {
      startSpan: (name: string, ...rest: unknown[]) => {
        if (name !== SPAN_NAMES.delivery) throwing();
        return (otel.tracer.startSpan as (...args: unknown[]) => Span)(name, ...rest);
      },
      startActiveSpan: throwing,
    } as never;
    const brokenMeter = {
      createHistogram: () => ({ record: throwing }),
      createObservableCounter: () => ({ addCallback: () => {} }),
      createObservableUpDownCounter: () => ({ addCallback: () => {} }),
    } as never;
    for (const instrumentation of [
      otelInstrumentation({ tracer: brokenTracer, meter: brokenMeter }),
      otelInstrumentation({ tracer: otel.tracer, meter: brokenMeter }),
    ]) {
      const handler = createWebhookHandler({
        secret: SECRET,
        logger: false,
        instrumentation,
        on: { "job.completed": async () => {} },
      });
      const result = await handler.handle(
        await signed({ timestamp: Math.floor(Date.now() / 1000) }),
      );
      expect([result.status, result.outcome]).toEqual([200, "handled"]);
      const failing = createWebhookHandler({
        secret: SECRET,
        logger: false,
        instrumentation,
        on: {
          "job.completed": () => {
            throw new Error("handler down");
          },
        },
      });
      const failed = await failing.handle(
        await signed({ timestamp: Math.floor(Date.now() / 1000) }),
      );
      expect([failed.status, failed.outcome]).toEqual([500, "handler_failed"]);
    }
    await otel.shutdown();
  });

  it("uses the global providers by default, and is a no-op without an SDK", async () => {
    // No SDK registered: the API's no-op tracer and meter. Deliveries are answered as before.
    const handler = createWebhookHandler({
      secret: SECRET,
      instrumentation: otelInstrumentation(),
      on: { "job.completed": () => {} },
    });
    const result = await handler.handle(await signed({ timestamp: Math.floor(Date.now() / 1000) }));
    expect([result.status, result.outcome]).toEqual([200, "handled"]);

    const exporter = new InMemorySpanExporter();
    const global = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    // Made before the SDK is registered, it still finds it at its first delivery.
    const early = createWebhookHandler({ secret: SECRET, instrumentation: otelInstrumentation() });
    expect(trace.setGlobalTracerProvider(global)).toBe(true);
    try {
      await early.handle(await signed({ timestamp: Math.floor(Date.now() / 1000) }));
      const names = exporter.getFinishedSpans().map((span) => span.name);
      expect(names).toEqual([SPAN_NAMES.verify, SPAN_NAMES.delivery]);
      expect(exporter.getFinishedSpans()[0]!.instrumentationScope.name).toBe("@kallima/webhooks");
    } finally {
      trace.disable();
      await global.shutdown();
    }
  });
});
