/**
 * Delays before each retry, after a failed attempt. Kallima does not publish its schedule; this
 * is the usual shape of one (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: eight attempts over about
 * 28 hours), so a receiver that is down for a while sees what it would see in production.
 */
export const REALISTIC_RETRY_DELAYS_MS: readonly number[] = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];

/** Kallima stops waiting for an answer after 30 seconds: a failed attempt. */
export const DELIVERY_TIMEOUT_MS = 30_000;

/**
 * The schedule divided by `factor` (e.g. 1000 turns 5 min into 300 ms), for tests and demos that
 * cannot wait hours; never below 1 ms.
 *
 * @example
 * ```ts
 * compressSchedule(REALISTIC_RETRY_DELAYS_MS, 1000); // [5, 300, 1800, 7200, …]
 * ```
 */
export function compressSchedule(delays: readonly number[], factor: number): number[] {
  if (!Number.isFinite(factor) || factor < 1) {
    throw new RangeError(`The compression factor must be a number ≥ 1, got ${factor}.`);
  }
  return delays.map((delay) => Math.max(1, Math.round(delay / factor)));
}
