/** The `data` of a `job.completed` event: the job, with fields beyond these passed through. */
export interface JobCompletedData {
  id: string;
  status: "completed";
  [field: string]: unknown;
}

/** The `data` of a `job.failed` event. */
export interface JobFailedData {
  id: string;
  status: "failed";
  error: { code: string; message: string };
  [field: string]: unknown;
}

/** The `data` of a `webhook.test` event, fired on demand from the dashboard. */
export interface WebhookTestData {
  webhook_id: string;
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
 *     "humanization.completed": { id: string; text_url: string };
 *   }
 * }
 * ```
 */
export interface KallimaEventMap {
  "job.completed": JobCompletedData;
  "job.failed": JobFailedData;
  "webhook.test": WebhookTestData;
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
 * if (isEventType(event, "job.failed")) console.error(event.data.error.message);
 * ```
 */
export function isEventType<TType extends KallimaEventType>(
  event: VerifiedKallimaEvent,
  type: TType,
): event is KallimaEvent<TType> {
  return event.type === type;
}
