import type { FailureReporter } from "../delivery.js";
import { QueueUnavailableError } from "../errors.js";
import type { VerifiedKallimaEvent } from "../events.js";
import type { HeadersInput } from "../headers.js";
import { acceptedResult, errorResult, type WebhookResult } from "../result.js";
import type { RawBody } from "../verify.js";
import type { QueuedDelivery, WebhookQueue } from "./driver.js";

// Credentials of the app's own, never part of Kallima's signature: not kept in the queue.
const DROPPED_HEADERS = new Set(["authorization", "cookie", "proxy-authorization"]);

/** Request headers as a queue keeps them: lowercase names, one string each. */
export function headerRecord(headers: HeadersInput): Record<string, string> {
  const record: Record<string, string> = {};
  const add = (name: string, value: string) => {
    const key = name.toLowerCase();
    if (DROPPED_HEADERS.has(key)) return;
    record[key] = key in record ? `${record[key]}, ${value}` : value;
  };
  const entries = (headers as { entries?: () => Iterable<[string, string]> }).entries;
  if (typeof (headers as { get?: unknown }).get === "function" && typeof entries === "function") {
    for (const [name, value] of entries.call(headers)) add(name, value);
    return record;
  }
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    if (typeof value === "string") add(name, value);
    else if (typeof value === "number") add(name, String(value));
    else if (Array.isArray(value)) for (const item of value) add(name, String(item));
  }
  return record;
}

const decoder = new TextDecoder();

function bodyText(rawBody: RawBody): string {
  // Verification already proved the bytes are UTF-8 JSON, so decoding loses nothing.
  return typeof rawBody === "string" ? rawBody : decoder.decode(rawBody);
}

/** What the receiver needs to enqueue instead of running handlers. */
export interface EnqueuerSettings {
  queue: WebhookQueue;
  /** The enqueue's deadline: past it the delivery is answered 503, like a failed enqueue. */
  deadlineMs: number;
  report: FailureReporter;
  now: () => number;
}

/**
 * Queue mode's replacement for the dispatcher: stores the verified delivery and answers 202
 * `queued` (or 200 `duplicate`) once the queue has it, 503 `queue_unavailable` otherwise.
 */
export function createEnqueuer(
  settings: EnqueuerSettings,
): (
  event: VerifiedKallimaEvent,
  rawBody: RawBody,
  headers: HeadersInput,
) => Promise<WebhookResult> {
  const { queue, deadlineMs, report, now } = settings;
  return async (event, rawBody, headers) => {
    const delivery: QueuedDelivery = {
      eventId: event.id,
      eventType: event.type,
      rawBody: bodyText(rawBody),
      headers: headerRecord(headers),
      receivedAt: now(),
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const deadline = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the queue did not answer within ${deadlineMs} ms`)),
          deadlineMs,
        );
        (timer as { unref?: () => void }).unref?.();
      });
      const outcome = await Promise.race([queue.enqueue(delivery), deadline]);
      return acceptedResult(outcome === "queued" ? "queued" : "duplicate", event);
    } catch (cause) {
      const result = errorResult(new QueueUnavailableError(cause), "queue_unavailable", event);
      report(result.error, { status: result.status, event });
      return result;
    } finally {
      clearTimeout(timer);
    }
  };
}
