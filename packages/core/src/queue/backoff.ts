import { WebhookConfigError } from "../errors.js";
import { positiveOption } from "../idempotency.js";

/** How long a worker waits between attempts: exponential, capped, with random jitter. */
export interface BackoffOptions {
  /** The wait after the first failed attempt, in ms; it doubles after each. Default 1,000. */
  initialMs?: number;
  /** The longest wait, in ms. Default 300,000 (5 minutes). */
  maxMs?: number;
  /**
   * How much of each wait is random, from 0 (none) to 1: the wait is drawn from
   * `[delay × (1 − jitter), delay]`, so that workers retrying together spread out. Default 0.5.
   */
  jitter?: number;
}

/**
 * The wait after failed attempt `attempt` (from 1): `initialMs × 2^(attempt−1)`, capped at
 * `maxMs`, less a random share of up to `jitter` of it.
 *
 * @example
 * ```ts
 * const delay = backoffDelay({ initialMs: 500, maxMs: 60_000 });
 * delay(3); // between 1,000 and 2,000 ms
 * ```
 */
export function backoffDelay(
  options: BackoffOptions = {},
  random: () => number = Math.random,
): (attempt: number) => number {
  const initialMs = positiveOption("backoff.initialMs", options.initialMs, 1_000);
  const maxMs = positiveOption("backoff.maxMs", options.maxMs, 300_000);
  const jitter = options.jitter ?? 0.5;
  if (typeof jitter !== "number" || !(jitter >= 0 && jitter <= 1)) {
    throw new WebhookConfigError(
      "invalid_option",
      `backoff.jitter must be a number from 0 to 1, got ${String(jitter)}.`,
    );
  }
  return (attempt) => {
    const exponent = Math.max(0, Math.min(attempt - 1, 52));
    const delay = Math.min(maxMs, initialMs * 2 ** exponent);
    return Math.round(delay * (1 - jitter * random()));
  };
}
