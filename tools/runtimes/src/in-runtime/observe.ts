// Runs check-observability.ts, loaded only here, so that a runtime that cannot load
// @kallima/webhooks/otel or @opentelemetry/api fails that column with the reason, not the
// vectors with it.
import type { ObservabilityReport } from "./check-observability.js";
import type { ObservedDeliveries } from "./observed-deliveries.js";

export async function observe(
  deliveries: Partial<ObservedDeliveries>,
): Promise<ObservabilityReport> {
  try {
    const { checkObservability } = await import("./check-observability.js");
    return await checkObservability(deliveries);
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { total: 1, failures: [`threw ${reason}`] };
  }
}
