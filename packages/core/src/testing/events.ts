import type { KallimaEvent, KallimaEventEnvelope, KallimaEventMap } from "../events.js";

/** Fields of an envelope a test may override; `data` merges into the default data. */
export type EventOverrides<TData> = Partial<Omit<KallimaEventEnvelope<string, TData>, "data">> & {
  data?: Partial<TData>;
};

let counter = 0;

/** A fresh, unique event id in Kallima's format. */
export function createEventId(): string {
  counter += 1;
  const random = Math.random().toString(36).slice(2, 10).toUpperCase();
  return `evt_${Date.now().toString(36).toUpperCase()}${counter.toString(36).toUpperCase()}${random}`;
}

/**
 * Builds an event envelope of any type, with a unique id and the current time.
 *
 * @example
 * ```ts
 * const event = createEvent("humanization.completed", { id: "hum_1" });
 * ```
 */
export function createEvent<TType extends string, TData>(
  type: TType,
  data: TData,
  overrides: Partial<Omit<KallimaEventEnvelope<TType, TData>, "type" | "data">> = {},
): KallimaEventEnvelope<TType, TData> {
  return {
    id: overrides.id ?? createEventId(),
    type,
    api_version: overrides.api_version ?? "2026-04-23",
    created_at: overrides.created_at ?? new Date().toISOString(),
    data,
  };
}

function build<TType extends keyof KallimaEventMap>(
  type: TType,
  defaults: KallimaEventMap[TType],
  overrides: EventOverrides<KallimaEventMap[TType]>,
): KallimaEvent<TType> {
  const { data, ...envelope } = overrides;
  return createEvent(type, { ...defaults, ...data }, envelope) as unknown as KallimaEvent<TType>;
}

/**
 * A realistic `job.completed` event.
 *
 * @example
 * ```ts
 * const event = jobCompletedEvent({ data: { id: "job_42" } });
 * ```
 */
export function jobCompletedEvent(
  overrides: EventOverrides<KallimaEventMap["job.completed"]> = {},
): KallimaEvent<"job.completed"> {
  return build(
    "job.completed",
    {
      id: "job_7f3c2a",
      status: "completed",
      result_url: "https://api.kallima.example/v1/jobs/job_7f3c2a/result",
    },
    overrides,
  );
}

/**
 * A realistic `job.failed` event.
 *
 * @example
 * ```ts
 * const event = jobFailedEvent({ data: { error: { code: "timeout", message: "took too long" } } });
 * ```
 */
export function jobFailedEvent(
  overrides: EventOverrides<KallimaEventMap["job.failed"]> = {},
): KallimaEvent<"job.failed"> {
  return build(
    "job.failed",
    {
      id: "job_7f3c2a",
      status: "failed",
      error: { code: "out_of_memory", message: "GPU ran out of memory" },
    },
    overrides,
  );
}

/**
 * A `webhook.test` event, as the dashboard's "send test" button fires it.
 *
 * @example
 * ```ts
 * const event = webhookTestEvent();
 * ```
 */
export function webhookTestEvent(
  overrides: EventOverrides<KallimaEventMap["webhook.test"]> = {},
): KallimaEvent<"webhook.test"> {
  return build("webhook.test", { webhook_id: "aaaa0001-bbbb-0002-cccc-000300040005" }, overrides);
}
