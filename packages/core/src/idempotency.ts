import { WebhookConfigError } from "./errors.js";

/**
 * The answer to a claim on an event id:
 * - `claimed`: this caller owns the event and runs its handlers;
 * - `in_progress`: another caller holds an unexpired lease on it;
 * - `done`: it was handled successfully before.
 */
export type ClaimResult = "claimed" | "in_progress" | "done";

/**
 * Where handled event ids are remembered, so that a repeated delivery runs its handler once.
 * A claim takes a lease that lapses on its own, so a crashed worker's event is retried later.
 * Implement it for any shared store; `memoryStore()` is the default and `@kallima/webhooks-redis`
 * shares state across instances. Throwing (or rejecting) from any method is a store fault.
 *
 * @example
 * ```ts
 * const store: IdempotencyStore = {
 *   claim: (key) => db.claim(key),
 *   markDone: (key) => db.markDone(key),
 *   release: (key) => db.release(key),
 * };
 * ```
 */
export interface IdempotencyStore {
  /** Atomically claims `key` unless it is done or leased by someone else. */
  claim(key: string): ClaimResult | Promise<ClaimResult>;
  /** Records `key` as handled, so later claims answer `done` until it expires. */
  markDone(key: string): void | Promise<void>;
  /** Gives up a claim after a failed handler, so the sender's retry runs it again. */
  release(key: string): void | Promise<void>;
}

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /** Most ids kept at once; the oldest are evicted first. Default 10,000. */
  maxEntries?: number;
  /** How long a handled id is remembered, in seconds. Default 72 hours, the sender's retry horizon. */
  ttlSeconds?: number;
  /** How long a claim lasts before another delivery may take it over, in seconds. Default 60. */
  leaseSeconds?: number;
  /** The clock, in epoch milliseconds. */
  now?: () => number;
}

/** The memory store, which can also say how many ids it holds. */
export interface MemoryIdempotencyStore extends IdempotencyStore {
  readonly size: number;
  clear(): void;
}

/** Default time a handled id is remembered: the sender retries for up to 72 hours. */
export const DEFAULT_DONE_TTL_SECONDS = 72 * 60 * 60;
/** Default lease on a claim: twice the sender's 30-second answer timeout. */
export const DEFAULT_LEASE_SECONDS = 60;

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new WebhookConfigError(
      "invalid_option",
      `${name} must be a positive finite number, got ${String(value)}.`,
    );
  }
  return value;
}

/**
 * An in-process, bounded idempotency store: it dedupes within one process only. Run several
 * instances? Use a shared store such as `@kallima/webhooks-redis`.
 *
 * @example
 * ```ts
 * createWebhookHandler({ secret, idempotency: { store: memoryStore({ maxEntries: 50_000 }) } });
 * ```
 */
export function memoryStore(options: MemoryStoreOptions = {}): MemoryIdempotencyStore {
  const maxEntries = Math.floor(positive("maxEntries", options.maxEntries, 10_000));
  const ttlMs = positive("ttlSeconds", options.ttlSeconds, DEFAULT_DONE_TTL_SECONDS) * 1000;
  const leaseMs = positive("leaseSeconds", options.leaseSeconds, DEFAULT_LEASE_SECONDS) * 1000;
  const now = options.now ?? Date.now;
  // A Map iterates in insertion order, and every write re-inserts: the first key is the oldest.
  const entries = new Map<string, { done: boolean; expiresAt: number }>();

  const put = (key: string, done: boolean, lifetimeMs: number) => {
    entries.delete(key);
    entries.set(key, { done, expiresAt: now() + lifetimeMs });
    while (entries.size > maxEntries) {
      const oldest = entries.keys().next().value as string;
      entries.delete(oldest);
    }
  };

  return {
    claim(key) {
      const entry = entries.get(key);
      if (entry && entry.expiresAt > now()) return entry.done ? "done" : "in_progress";
      put(key, false, leaseMs);
      return "claimed";
    },
    markDone(key) {
      put(key, true, ttlMs);
    },
    release(key) {
      const entry = entries.get(key);
      if (entry && !entry.done) entries.delete(key);
    },
    get size() {
      return entries.size;
    },
    clear() {
      entries.clear();
    },
  };
}
