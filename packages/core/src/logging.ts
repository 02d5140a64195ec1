import type { KallimaWebhookError } from "./errors.js";
import type { VerifiedKallimaEvent } from "./events.js";

/**
 * Where the handler writes what operators need to see. `console` fits, and so do pino, winston
 * and Nest's `Logger`. Lines never hold the secret, a signature or the body.
 */
export interface WebhookLogger {
  /** Receiver-side failures: a handler failed, the raw body was unavailable, the store is down, a bad secret. */
  error(message: string, details: WebhookLogDetails): void;
  /** Rejected deliveries (4xx): forged, stale, malformed or too large. */
  warn(message: string, details: WebhookLogDetails): void;
}

/** The structured part of a log line. */
export interface WebhookLogDetails {
  code: string;
  status: number;
  eventId?: string;
  eventType?: string;
  /** What a failing handler or store threw. */
  cause?: unknown;
}

const PREFIX = "[kallima-webhooks]";

/** Writes one line per failed delivery: errors for 5xx, warnings for 4xx (405 and 409 are routine). */
export function createFailureLogger(
  logger: WebhookLogger | false | undefined,
):
  | ((error: KallimaWebhookError, status: number, event?: VerifiedKallimaEvent) => void)
  | undefined {
  if (logger === false) return undefined;
  const sink = logger ?? console;
  return (error, status, event) => {
    if (status === 405 || status === 409) return;
    const details: WebhookLogDetails = {
      code: error.code,
      status,
      ...(event ? { eventId: event.id, eventType: event.type } : {}),
      ...(error.cause === undefined ? {} : { cause: error.cause }),
    };
    // The event in the line too, for loggers that print only the message.
    const about = event ? ` (${event.type} ${event.id})` : "";
    const line = `${PREFIX} ${status} ${error.code}${about}: ${error.message}`;
    try {
      // A store fault that did not change the answer (200) is still the receiver's problem.
      if (status >= 500 || error.code === "idempotency_store_unavailable")
        sink.error(line, details);
      else sink.warn(line, details);
    } catch {
      // A broken logger must not change the answer.
    }
  };
}
