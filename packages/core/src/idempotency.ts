import { WebhookConfigError } from "./errors.js";

/**
 * A claim held on an event id. Only its holder can complete, release or extend it: a lease that
 * lapsed and was taken over by another delivery can neither mark the event done nor free the new
 * holder's claim.
 */
export interface IdempotencyLease {
  /** The event id claimed. */
  readonly key: string;
  /** Unique per claim; what the store checks before `markDone`, `release` and `extend`. */
  readonly token: string;
}

/**
 * The answer to a claim on an event id:
 * - `claimed`: this caller owns the event until its lease lapses, and runs its handlers;
 * - `in_progress`: another caller holds an unexpired lease on it;
 * - `done`: it was handled successfully before.
 */
export type ClaimResult =
  | { readonly status: "claimed"; readonly lease: IdempotencyLease }
  | { readonly status: "in_progress" }
  | { readonly status: "done" };

/**
 * Where handled event ids are remembered, so that a repeated delivery runs its handler once.
 * A claim takes a lease that lapses on its own, so a crashed worker's event is retried later;
 * the handler extends it while a slow handler still runs. Implement it for any shared store;
 * `memoryStore()` is the default and `@kallima/webhooks-redis` shares state across instances.
 * Throwing (or rejecting) from any method is a store fault. The shared conformance suite
 * (`runIdempotencyStoreSuite`) holds an implementation to this contract.
 *
 * @example
 * ```ts
 * const store: IdempotencyStore = {
 *   claim: (key) => db.claim(key, randomUUID()), // { status: "claimed", lease } | …
 *   markDone: (lease) => db.markDone(lease.key, lease.token),
 *   release: (lease) => db.release(lease.key, lease.token),
 *   extend: (lease) => db.extend(lease.key, lease.token),
 * };
 * ```
 */
export interface IdempotencyStore {
  /** Atomically claims `key` unless it is done or leased by someone else. */
  claim(key: string): ClaimResult | Promise<ClaimResult>;
  /**
   * Records the lease's key as handled, so later claims answer `done` until it expires. Does
   * nothing when another caller now holds the key.
   */
  markDone(lease: IdempotencyLease): void | Promise<void>;
  /**
   * Gives up a claim after a failed handler, so the sender's retry runs it again. Frees the key
   * only while this lease still holds it.
   */
  release(lease: IdempotencyLease): void | Promise<void>;
  /**
   * Renews a held lease for another lease period, while a slow handler still runs. Answers
   * `false` when the lease is no longer this caller's (it lapsed and was taken over, or is gone).
   */
  extend(lease: IdempotencyLease): boolean | Promise<boolean>;
  /** The lease period in seconds, so the handler renews in time; 60 when not said. */
  readonly leaseSeconds?: number;
}

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most ids kept at once (an integer ≥ 1). Finished ids are evicted oldest first to make room;
   * claims still in progress never are, so when every entry is a live claim a new claim fails
   * as a store fault (503 with `Retry-After`, nothing runs) until one finishes. Default 10,000.
   */
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
  claim(key: string): ClaimResult;
  markDone(lease: IdempotencyLease): void;
  release(lease: IdempotencyLease): void;
  extend(lease: IdempotencyLease): boolean;
  readonly size: number;
  readonly leaseSeconds: number;
  clear(): void;
}

/** Default time a handled id is remembered: the sender retries for up to 72 hours. */
export const DEFAULT_DONE_TTL_SECONDS = 72 * 60 * 60;
/** Default lease on a claim: twice the sender's 30-second answer timeout. */
export const DEFAULT_LEASE_SECONDS = 60;

/**
 * Validates a positive finite number option, for stores and handlers alike.
 *
 * @example
 * ```ts
 * const leaseSeconds = positiveOption("leaseSeconds", options.leaseSeconds, 60);
 * ```
 */
export function positiveOption(
  name: string,
  value: unknown,
  fallback: number,
  { integer = false }: { integer?: boolean } = {},
): number {
  if (value === undefined) return fallback;
  const valid =
    typeof value === "number" &&
    Number.isFinite(value) &&
    value > 0 &&
    (!integer || Number.isInteger(value));
  if (!valid) {
    const got = typeof value === "string" ? JSON.stringify(value) : String(value);
    throw new WebhookConfigError(
      "invalid_option",
      `${name} must be a positive ${integer ? "integer" : "finite number"}, got ${got}${
        typeof value === "string" ? " (a string)" : ""
      }.`,
    );
  }
  return value as number;
}

interface MemoryEntry {
  readonly key: string;
  /** The lease's token while in progress; undefined once done. */
  token: string | undefined;
  expiresAt: number;
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
  const maxEntries = positiveOption("maxEntries", options.maxEntries, 10_000, { integer: true });
  const ttlMs = positiveOption("ttlSeconds", options.ttlSeconds, DEFAULT_DONE_TTL_SECONDS) * 1000;
  const leaseSeconds = positiveOption("leaseSeconds", options.leaseSeconds, DEFAULT_LEASE_SECONDS);
  const leaseMs = leaseSeconds * 1000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, MemoryEntry>();
  // Eviction order: every write appends its entry to a queue read from `head`; an item whose
  // entry is no longer the one in the map (released, or written again since) is stale and
  // skipped. Deleting and re-inserting Map keys instead would leave V8's deleted slots at the
  // front of the Map, which every eviction would walk again.
  let queue: MemoryEntry[] = [];
  let head = 0;

  const isCurrent = (entry: MemoryEntry) => entries.get(entry.key) === entry;

  const put = (key: string, token: string | undefined, expiresAt: number) => {
    const entry: MemoryEntry = { key, token, expiresAt };
    entries.set(key, entry);
    queue.push(entry);
    // Stale items are dropped as evictions meet them; rebuild the queue when they pile up
    // without evictions (ids re-claimed after their leases lapsed).
    if (queue.length - head > 4 * Math.max(entries.size, 1024)) {
      queue = queue.slice(head).filter(isCurrent);
      head = 0;
    }
  };

  /** Frees one slot: the oldest entry that is finished or lapsed. Never a live claim. */
  const makeRoom = (at: number): boolean => {
    let freed = false;
    for (let pending = queue.length - head; pending > 0 && !freed; pending--) {
      const entry = queue[head]!;
      head += 1;
      if (!isCurrent(entry)) continue;
      if (entry.token === undefined || entry.expiresAt <= at) {
        entries.delete(entry.key);
        freed = true;
      } else {
        // A live claim keeps its place in the store: look at it again after the others.
        queue.push(entry);
      }
    }
    if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    return freed;
  };

  const holds = (lease: IdempotencyLease, at: number): MemoryEntry | undefined => {
    const entry = entries.get(lease.key);
    return entry && entry.token === lease.token && entry.expiresAt > at ? entry : undefined;
  };

  let issued = 0;

  return {
    leaseSeconds,
    claim(key) {
      const at = now();
      const entry = entries.get(key);
      if (entry && entry.expiresAt > at) {
        return entry.token === undefined ? { status: "done" } : { status: "in_progress" };
      }
      if (!entry && entries.size >= maxEntries && !makeRoom(at)) {
        throw new Error(
          `The memory idempotency store is full: all ${maxEntries} entries are deliveries still being handled. Raise maxEntries, or use a shared store.`,
        );
      }
      issued += 1;
      const lease = { key, token: `m${issued}` };
      put(key, lease.token, at + leaseMs);
      return { status: "claimed", lease };
    },
    markDone(lease) {
      const at = now();
      const entry = entries.get(lease.key);
      if (entry && entry.token === lease.token) {
        // Our own claim, the usual case: done in place. Its eviction order stays that of the
        // claim, a moment earlier, and no second write is queued.
        entry.token = undefined;
        entry.expiresAt = at + ttlMs;
        return;
      }
      // Another delivery holds it now (our lease lapsed): its outcome is its own to record.
      if (entry && entry.expiresAt > at) return;
      if (!entry && entries.size >= maxEntries) makeRoom(at);
      put(lease.key, undefined, at + ttlMs);
    },
    release(lease) {
      if (holds(lease, now())) entries.delete(lease.key);
    },
    extend(lease) {
      const at = now();
      const entry = holds(lease, at);
      if (!entry) return false;
      entry.expiresAt = at + leaseMs;
      return true;
    },
    get size() {
      return entries.size;
    },
    clear() {
      entries.clear();
      queue = [];
      head = 0;
    },
  };
}
