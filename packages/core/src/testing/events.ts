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

const JOB_ID = "5f0c6a1e-8d2b-4c3a-9e7f-1a2b3c4d5e6f";
const VARIANT_ID = "var_01J9ZQ4K7M";

function jobTimestamps() {
  const now = Date.now();
  return {
    created_at: new Date(now - 120_000).toISOString(),
    started_at: new Date(now - 90_000).toISOString(),
    completed_at: new Date(now).toISOString(),
    canceled_at: null,
  };
}

/**
 * A realistic `job.completed` event: Kallima's job object, completed.
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
      id: JOB_ID,
      variant_id: VARIANT_ID,
      job_type: "humanization",
      status: "completed",
      error_message: null,
      ...jobTimestamps(),
      submitted_by: "user_01J9ZQ",
      result_url: `https://api.kallima.example/v1/jobs/${JOB_ID}/result`,
    },
    overrides,
  );
}

/**
 * A realistic `job.failed` event: the job object with its `error_message`. Pass `data.error` to
 * send the reason as an error object instead.
 *
 * @example
 * ```ts
 * const event = jobFailedEvent({ data: { error_message: "took too long" } });
 * ```
 */
export function jobFailedEvent(
  overrides: EventOverrides<KallimaEventMap["job.failed"]> = {},
): KallimaEvent<"job.failed"> {
  return build(
    "job.failed",
    {
      id: JOB_ID,
      variant_id: VARIANT_ID,
      job_type: "structure",
      status: "failed",
      error_message: "GPU ran out of memory",
      ...jobTimestamps(),
      submitted_by: "user_01J9ZQ",
    },
    overrides,
  );
}

/**
 * A `webhook.test` event, as "fire a test event" sends it.
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

const PROBLEM = {
  type: "https://docs.kallima.example/problems/pipeline-failed",
  title: "Pipeline failed",
  status: 500,
  detail: "The model did not converge for this variant.",
  code: "pipeline_failed",
};

/** The common part of a product resource: its id, kind, variant and lifecycle timestamps. */
function productResource<TObject extends string>(object: TObject, id: string) {
  const { canceled_at: _canceled, ...times } = jobTimestamps();
  return { id, object, variant_id: VARIANT_ID, ...times };
}

function completedProduct<TObject extends string, TResults>(
  object: TObject,
  id: string,
  results: TResults,
) {
  return { ...productResource(object, id), status: "completed" as const, results, error: null };
}

function failedProduct<TObject extends string>(object: TObject, id: string, instance: string) {
  const error = { ...PROBLEM, instance };
  return { ...productResource(object, id), status: "failed" as const, results: null, error };
}

const HUMANIZATION_ID = "hum_01J9ZQ5N2P";
const STRUCTURE_PREDICTION_ID = "stp_01J9ZQ6R8S";

/**
 * A `humanization.completed` event: the humanization resource with its `results`.
 *
 * @example
 * ```ts
 * const event = humanizationCompletedEvent({ data: { results: { humanness: 0.93 } } });
 * ```
 */
export function humanizationCompletedEvent(
  overrides: EventOverrides<KallimaEventMap["humanization.completed"]> = {},
): KallimaEvent<"humanization.completed"> {
  const results = { humanness: 0.93, sequences: ["EVQLVESGGGLVQPGG"] };
  return build(
    "humanization.completed",
    completedProduct("humanization", HUMANIZATION_ID, results),
    overrides,
  );
}

/**
 * A `humanization.failed` event: the resource with a problem+json `error`.
 *
 * @example
 * ```ts
 * const event = humanizationFailedEvent();
 * ```
 */
export function humanizationFailedEvent(
  overrides: EventOverrides<KallimaEventMap["humanization.failed"]> = {},
): KallimaEvent<"humanization.failed"> {
  const instance = `/v1/humanizations/${HUMANIZATION_ID}`;
  return build(
    "humanization.failed",
    failedProduct("humanization", HUMANIZATION_ID, instance),
    overrides,
  );
}

/**
 * A `structure_prediction.completed` event.
 *
 * @example
 * ```ts
 * const event = structurePredictionCompletedEvent();
 * ```
 */
export function structurePredictionCompletedEvent(
  overrides: EventOverrides<KallimaEventMap["structure_prediction.completed"]> = {},
): KallimaEvent<"structure_prediction.completed"> {
  const results = {
    plddt: 87.4,
    pdb_url: `https://api.kallima.example/v1/files/${STRUCTURE_PREDICTION_ID}.pdb`,
  };
  const data = completedProduct("structure_prediction", STRUCTURE_PREDICTION_ID, results);
  return build("structure_prediction.completed", data, overrides);
}

/**
 * A `structure_prediction.failed` event.
 *
 * @example
 * ```ts
 * const event = structurePredictionFailedEvent();
 * ```
 */
export function structurePredictionFailedEvent(
  overrides: EventOverrides<KallimaEventMap["structure_prediction.failed"]> = {},
): KallimaEvent<"structure_prediction.failed"> {
  const instance = `/v1/structure_predictions/${STRUCTURE_PREDICTION_ID}`;
  const data = failedProduct("structure_prediction", STRUCTURE_PREDICTION_ID, instance);
  return build("structure_prediction.failed", data, overrides);
}
