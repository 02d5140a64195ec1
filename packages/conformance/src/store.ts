import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";

/** A lease as the store contract defines it (structurally, so this suite needs no core import). */
export interface StoreLease {
  readonly key: string;
  readonly token: string;
}

type Claim =
  | { readonly status: "claimed"; readonly lease: StoreLease }
  | { readonly status: "in_progress" }
  | { readonly status: "done" };

/** The `IdempotencyStore` contract of `@kallima/webhooks`, as this suite drives it. */
export interface StoreUnderTest {
  claim(key: string): Claim | Promise<Claim>;
  markDone(lease: StoreLease): void | Promise<void>;
  release(lease: StoreLease): void | Promise<void>;
  extend(lease: StoreLease): boolean | Promise<boolean>;
}

export interface StoreTarget {
  /** A fresh store whose leases last `leaseSeconds` (the suite uses about a second). */
  create(options: { leaseSeconds: number }): StoreUnderTest | Promise<StoreUnderTest>;
  close?(store: StoreUnderTest): unknown;
}

const LEASE_SECONDS = 0.6;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Past a lease, with room for a loaded machine's timers. */
const pastLease = () => sleep(LEASE_SECONDS * 1000 + 250);

async function leaseOf(pending: Claim | Promise<Claim>): Promise<StoreLease> {
  const claim = await pending;
  expect(claim.status).toBe("claimed");
  if (claim.status !== "claimed") throw new Error("not claimed");
  return claim.lease;
}

const statusOf = async (pending: Claim | Promise<Claim>) => (await pending).status;

/**
 * Registers the shared idempotency store suite: claims, completion, release, lease expiry and
 * lease ownership (a lapsed lease can neither complete nor release another holder's claim).
 *
 * @example
 * ```ts
 * runIdempotencyStoreSuite("memoryStore", { create: ({ leaseSeconds }) => memoryStore({ leaseSeconds }) });
 * ```
 */
export function runIdempotencyStoreSuite(name: string, target: StoreTarget): void {
  describe(`idempotency store contract: ${name}`, () => {
    const open: StoreUnderTest[] = [];
    afterEach(async () => {
      for (const store of open.splice(0)) await target.close?.(store);
    });
    const fresh = async () => {
      const store = await target.create({ leaseSeconds: LEASE_SECONDS });
      open.push(store);
      return store;
    };
    const key = () => `evt_store_${randomUUID()}`;

    it("claims once, answers in_progress while leased and done after markDone", async () => {
      const store = await fresh();
      const id = key();
      const lease = await leaseOf(store.claim(id));
      expect(lease.key).toBe(id);
      expect(typeof lease.token).toBe("string");
      expect(await statusOf(store.claim(id))).toBe("in_progress");
      await store.markDone(lease);
      expect(await statusOf(store.claim(id))).toBe("done");
      expect(await statusOf(store.claim(key()))).toBe("claimed");
    });

    it("lets a released claim be claimed again, with a new token, and never releases a done id", async () => {
      const store = await fresh();
      const id = key();
      const first = await leaseOf(store.claim(id));
      await store.release(first);
      const second = await leaseOf(store.claim(id));
      expect(second.token).not.toBe(first.token);
      await store.markDone(second);
      await store.release(second);
      expect(await statusOf(store.claim(id))).toBe("done");
    });

    it("lets a lapsed lease be claimed again (a crashed handler's event is retried)", async () => {
      const store = await fresh();
      const id = key();
      await leaseOf(store.claim(id));
      await pastLease();
      await leaseOf(store.claim(id));
    });

    it("keeps a claim past its first lease while it is extended", async () => {
      const store = await fresh();
      const id = key();
      const lease = await leaseOf(store.claim(id));
      for (let round = 0; round < 3; round++) {
        await sleep((LEASE_SECONDS * 1000) / 2);
        expect(await store.extend(lease)).toBe(true);
      }
      expect(await statusOf(store.claim(id))).toBe("in_progress");
    });

    it("a lapsed lease taken over by another can neither release, complete nor extend it", async () => {
      const store = await fresh();
      const id = key();
      const stale = await leaseOf(store.claim(id));
      await pastLease();
      const current = await leaseOf(store.claim(id));
      await store.release(stale);
      expect(await statusOf(store.claim(id))).toBe("in_progress");
      await store.markDone(stale);
      expect(await statusOf(store.claim(id))).toBe("in_progress");
      expect(await store.extend(stale)).toBe(false);
      expect(await store.extend(current)).toBe(true);
      await store.markDone(current);
      expect(await statusOf(store.claim(id))).toBe("done");
    });

    it("answers extend false for a released or finished lease", async () => {
      const store = await fresh();
      const released = await leaseOf(store.claim(key()));
      await store.release(released);
      expect(await store.extend(released)).toBe(false);
      const finished = await leaseOf(store.claim(key()));
      await store.markDone(finished);
      expect(await store.extend(finished)).toBe(false);
    });

    it("records a success whose lease lapsed when nobody else took the event", async () => {
      const store = await fresh();
      const id = key();
      const lease = await leaseOf(store.claim(id));
      await pastLease();
      await store.markDone(lease);
      expect(await statusOf(store.claim(id))).toBe("done");
    });

    it("gives one claim to many concurrent claimants", async () => {
      const store = await fresh();
      const id = key();
      const statuses = await Promise.all(
        Array.from({ length: 20 }, () => statusOf(store.claim(id))),
      );
      expect(statuses.filter((status) => status === "claimed")).toHaveLength(1);
      expect(statuses.filter((status) => status === "in_progress")).toHaveLength(19);
    });
  });
}
