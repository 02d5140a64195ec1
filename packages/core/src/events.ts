/**
 * Event types, shaped after the objects of Kallima's API reference. The reference does not publish
 * each event's `data`: `job.*` events carry the job object, product events their resource. Fields
 * are typed as the reference shows them; those it does not guarantee on every event are optional.
 * Data types have no catch-all index signature, so a typo fails to compile; add fields Kallima
 * ships later by augmenting the interface (see {@link KallimaEventMap}).
 */

/** The kinds of pipeline job Kallima runs. Newer kinds arrive as other strings. */
export type KallimaJobType =
  | "humanization"
  | "structure"
  | "stability"
  | "immunogenicity"
  | "complex"
  | "codon_export";

/** A job's lifecycle. */
export type KallimaJobStatus = "pending" | "running" | "completed" | "failed" | "canceled";

/**
 * An error object in the shape of RFC 9457 problem details, as Kallima's API answers errors,
 * or the short `{ code, message }` form. Every field is optional: read it through
 * {@link getFailureReason}.
 */
export interface KallimaProblem {
  code?: string;
  message?: string;
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  instance?: string;
  request_id?: string;
}

/** The job object of Kallima's API reference. */
export interface KallimaJob {
  /** The job's id (a UUID). */
  id: string;
  status: KallimaJobStatus;
  variant_id?: string;
  job_type?: KallimaJobType | (string & {});
  /** Why the job failed, or `null`. */
  error_message?: string | null;
  created_at?: string;
  started_at?: string | null;
  completed_at?: string | null;
  canceled_at?: string | null;
  submitted_by?: string;
  /** Where the job's result can be fetched, when Kallima includes it. */
  result_url?: string;
}

/** The `data` of a `job.completed` event: the job, `status: "completed"`. */
export interface JobCompletedData extends KallimaJob {
  status: "completed";
}

/**
 * The `data` of a `job.failed` event: the job, `status: "failed"`. The reason arrives in
 * `error_message` (the job object's field) or in an `error` object, depending on the resource;
 * {@link getFailureReason} reads whichever is there.
 */
export interface JobFailedData extends KallimaJob {
  status: "failed";
  error?: KallimaProblem | null;
}

/** The `data` of a `webhook.test` event, fired on demand to test an endpoint. */
export interface WebhookTestData {
  webhook_id: string;
}

/**
 * A product resource (a humanization, a structure prediction, …): the job lifecycle, typed
 * `results` once it completed, and a problem+json `error` once it failed.
 */
export interface KallimaProductResource<TObject extends string, TResults> {
  id: string;
  object: TObject;
  status: KallimaJobStatus;
  variant_id?: string;
  created_at?: string;
  started_at?: string | null;
  completed_at?: string | null;
  canceled_at?: string | null;
  results?: TResults | null;
  error?: KallimaProblem | null;
}

/** The `data` of a `<product>.completed` event. */
export interface ProductCompletedData<TObject extends string, TResults>
  extends KallimaProductResource<TObject, TResults> {
  status: "completed";
  results: TResults;
}

/** The `data` of a `<product>.failed` event; the reason is in `error` (see {@link getFailureReason}). */
export interface ProductFailedData<TObject extends string, TResults = unknown>
  extends KallimaProductResource<TObject, TResults> {
  status: "failed";
}

/**
 * The `completed` / `failed` pair of a product, for {@link KallimaEventMap} augmentation: Kallima's
 * job types beyond the ones typed here get their events in one line.
 *
 * @example
 * ```ts
 * declare module "@kallima/webhooks" {
 *   interface KallimaEventMap extends ProductEvents<"stability", { score: number }> {}
 * }
 * ```
 */
export type ProductEvents<TObject extends string, TResults> = {
  [K in `${TObject}.completed`]: ProductCompletedData<TObject, TResults>;
} & {
  [K in `${TObject}.failed`]: ProductFailedData<TObject, TResults>;
};

/**
 * The `results` of a completed humanization. Kallima's reference types them without listing
 * every field here: read a field as `unknown` and narrow it, or augment this interface.
 */
export interface HumanizationResults {
  [field: string]: unknown;
}

/** The `results` of a completed structure prediction; like {@link HumanizationResults}. */
export interface StructurePredictionResults {
  [field: string]: unknown;
}

/**
 * Event types this library knows, mapped to the shape of their `data`.
 * It is an interface so that you can add types Kallima ships after this release.
 *
 * @example
 * ```ts
 * declare module "@kallima/webhooks" {
 *   interface KallimaEventMap {
 *     "variant.created": { id: string; name: string };
 *   }
 * }
 * ```
 */
export interface KallimaEventMap {
  "job.completed": JobCompletedData;
  "job.failed": JobFailedData;
  "webhook.test": WebhookTestData;
  "humanization.completed": ProductCompletedData<"humanization", HumanizationResults>;
  "humanization.failed": ProductFailedData<"humanization", HumanizationResults>;
  "structure_prediction.completed": ProductCompletedData<
    "structure_prediction",
    StructurePredictionResults
  >;
  "structure_prediction.failed": ProductFailedData<
    "structure_prediction",
    StructurePredictionResults
  >;
}

/** A known event type: a key of {@link KallimaEventMap}. */
export type KallimaEventType = keyof KallimaEventMap & string;

/** The envelope every event arrives in. */
export interface KallimaEventEnvelope<TType extends string, TData> {
  /** Unique per event; repeated deliveries of one event share it. */
  id: string;
  type: TType;
  api_version: string;
  created_at: string;
  data: TData;
}

/**
 * A verified event of a known type.
 *
 * @example
 * ```ts
 * const onCompleted = (event: KallimaEvent<"job.completed">) => event.data.id;
 * ```
 */
export type KallimaEvent<TType extends KallimaEventType = KallimaEventType> = {
  [T in TType]: KallimaEventEnvelope<T, KallimaEventMap[T]>;
}[TType];

/**
 * A verified event whose type this release does not know (Kallima adds types over time).
 * It is authentic: acknowledge it. Narrow known events with {@link isEventType}.
 */
export interface UnknownKallimaEvent extends KallimaEventEnvelope<string, unknown> {
  /** Marks the event as of a type outside {@link KallimaEventMap} when narrowing. */
  readonly __unknownType?: never;
}

/** What verification returns: an event of a known type, or an authentic one of a newer type. */
export type VerifiedKallimaEvent = KallimaEvent | UnknownKallimaEvent;

/**
 * Narrows a verified event to one known type.
 *
 * @example
 * ```ts
 * if (isEventType(event, "job.failed")) console.error(getFailureReason(event.data).message);
 * ```
 */
export function isEventType<TType extends KallimaEventType>(
  event: VerifiedKallimaEvent,
  type: TType,
): event is KallimaEvent<TType> {
  return event.type === type;
}

/** Why a job or product failed, whichever way Kallima reported it. */
export interface FailureReason {
  /** A human-readable reason; a generic sentence when the event carries none. */
  message: string;
  /** A machine-readable code, when the event carries one. */
  code: string | undefined;
}

const NO_REASON = "Kallima reported the failure without a reason.";

function nonEmpty(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

/**
 * Reads why a job or product failed: the job object's `error_message`, or an `error` object's
 * `message`, `detail` or `title` (problem+json), with its `code` when there is one.
 *
 * @example
 * ```ts
 * on: { "job.failed": (event) => alert(getFailureReason(event.data).message) }
 * ```
 */
export function getFailureReason(data: {
  error_message?: string | null;
  error?: KallimaProblem | null;
}): FailureReason {
  const error = typeof data.error === "object" && data.error !== null ? data.error : undefined;
  const message =
    nonEmpty(data.error_message) ??
    nonEmpty(error?.message) ??
    nonEmpty(error?.detail) ??
    nonEmpty(error?.title) ??
    NO_REASON;
  return { message, code: nonEmpty(error?.code) };
}
