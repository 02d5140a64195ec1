import {
  createEvent,
  humanizationCompletedEvent,
  humanizationFailedEvent,
  jobCompletedEvent,
  jobFailedEvent,
  structurePredictionCompletedEvent,
  structurePredictionFailedEvent,
  webhookTestEvent,
} from "@kallima/webhooks/testing";
import { ApiProblem } from "./problem.js";
import type { EventObject } from "./wire.js";

/** Event types with a realistic fixture (the job object for `job.*`, the resource for products). */
export const FIXTURE_EVENT_TYPES = [
  "job.completed",
  "job.failed",
  "webhook.test",
  "humanization.completed",
  "humanization.failed",
  "structure_prediction.completed",
  "structure_prediction.failed",
] as const;

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `over` merged into `base` at every depth: objects merge, anything else replaces. */
export function deepMerge(base: JsonObject, over: JsonObject): JsonObject {
  const merged: JsonObject = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = merged[key];
    merged[key] = isObject(current) && isObject(value) ? deepMerge(current, value) : value;
  }
  return merged;
}

/**
 * Sets `path` (dot-separated, e.g. `data.error.code`) in `target`, creating objects on the way.
 * The value is JSON when it parses as JSON (`42`, `true`, `null`, `{"a":1}`), a string otherwise.
 */
export function setPath(target: JsonObject, path: string, raw: string): void {
  const keys = path.split(".");
  if (keys.some((key) => key === "" || key === "__proto__" || key === "constructor")) {
    throw new ApiProblem(422, "validation_error", `"${path}" is not a usable key path.`);
  }
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // Not JSON: the text itself.
  }
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (!isObject(next)) node[key] = {};
    node = node[key] as JsonObject;
  }
  node[keys.at(-1)!] = value;
}

function fixture(type: string, id: string | undefined): JsonObject {
  const envelope = id === undefined ? {} : { id };
  switch (type) {
    case "job.completed":
      return jobCompletedEvent(envelope) as unknown as JsonObject;
    case "job.failed":
      return jobFailedEvent(envelope) as unknown as JsonObject;
    case "webhook.test":
      return webhookTestEvent(envelope) as unknown as JsonObject;
    case "humanization.completed":
      return humanizationCompletedEvent(envelope) as unknown as JsonObject;
    case "humanization.failed":
      return humanizationFailedEvent(envelope) as unknown as JsonObject;
    case "structure_prediction.completed":
      return structurePredictionCompletedEvent(envelope) as unknown as JsonObject;
    case "structure_prediction.failed":
      return structurePredictionFailedEvent(envelope) as unknown as JsonObject;
    default:
      return createEvent(type, {}, envelope) as unknown as JsonObject;
  }
}

/** What to build an event from: its type, data merged over the fixture's, and dotted settings. */
export interface EventSpec {
  type: string;
  /** Merged into the fixture's `data` at every depth (so `error.code` survives `error.message`). */
  data?: JsonObject;
  /** `{"data.error.code": "oom", "id": "evt_1"}`: set after `data` is merged. */
  set?: Record<string, string>;
  /** The event id; default a fresh `evt_…`. */
  id?: string;
}

/**
 * Builds an event envelope: the core's testing fixtures for the known types, a plain envelope for
 * any other type, `data` deep-merged, then each `set` path applied.
 *
 * @example
 * ```ts
 * buildEvent({ type: "job.failed", set: { "data.error_message": "out of memory" } });
 * ```
 */
export function buildEvent(spec: EventSpec): EventObject {
  if (typeof spec.type !== "string" || !/^[a-z0-9_]+(\.[a-z0-9_]+)+$/.test(spec.type)) {
    throw new ApiProblem(
      422,
      "validation_error",
      `type must be an event type such as "job.completed", got ${JSON.stringify(spec.type)}.`,
    );
  }
  let event = fixture(spec.type, spec.id);
  if (spec.data !== undefined) {
    if (!isObject(spec.data))
      throw new ApiProblem(422, "validation_error", "data must be an object.");
    const data = isObject(event.data) ? event.data : {};
    event = { ...event, data: deepMerge(data, spec.data) };
  }
  for (const [path, value] of Object.entries(spec.set ?? {})) setPath(event, path, value);
  if (typeof event.id !== "string" || event.id === "") {
    throw new ApiProblem(422, "validation_error", "The event id must be a non-empty string.");
  }
  if (event.type !== spec.type) {
    throw new ApiProblem(422, "validation_error", "type cannot be changed with set.");
  }
  return {
    id: event.id,
    object: "event",
    type: spec.type,
    api_version: String(event.api_version),
    created_at: String(event.created_at),
    data: event.data,
  };
}

/** The envelope exactly as Kallima sends it: no `object` field. */
export function envelopeOf(event: EventObject): JsonObject {
  return {
    id: event.id,
    type: event.type,
    api_version: event.api_version,
    created_at: event.created_at,
    data: event.data,
  };
}
