import type { WebhookInstrumentation } from "@kallima/webhooks";
import { otelInstrumentation } from "@kallima/webhooks/otel";
import {
  AggregationTemporality,
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";

/**
 * The OpenTelemetry SDK as an app runs it (the batch span processor, as the Node SDK sets up,
 * and a periodic metric reader), with exporters that drop what they are given: every span is
 * started, ended, queued and handed to its exporter in batches, every measurement aggregated.
 * What the row costs beyond the plain one is the instrumentation plus the SDK, without the
 * network. The exporter answers at once, so the queue never fills and no span is dropped.
 */
// ExportResultCode.SUCCESS, from @opentelemetry/core (not a dependency of its own here).
const SUCCESS = 0;

export function otelNoopInstrumentation(): {
  instrumentation: WebhookInstrumentation;
  /** Spans handed to the exporter so far (all of them, once shut down, unless some were dropped). */
  exportedSpans: () => number;
  shutdown: () => Promise<void>;
} {
  let exported = 0;
  const spanExporter: SpanExporter = {
    export: (spans, done) => {
      exported += spans.length;
      done({ code: SUCCESS });
    },
    shutdown: async () => {},
  };
  const metricExporter: PushMetricExporter = {
    export: (_metrics, done) => done({ code: SUCCESS }),
    forceFlush: async () => {},
    shutdown: async () => {},
    selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
  };
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new BatchSpanProcessor(spanExporter)],
  });
  const meterProvider = new MeterProvider({
    readers: [
      new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 60_000 }),
    ],
  });
  return {
    instrumentation: otelInstrumentation({
      tracer: tracerProvider.getTracer("bench"),
      meter: meterProvider.getMeter("bench"),
    }),
    exportedSpans: () => exported,
    shutdown: async () => {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}
