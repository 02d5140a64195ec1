import { runIdempotencyStoreSuite } from "@kallima/webhooks-conformance/store";
import { describe, expect, it } from "vitest";
import {
  type ClaimResult,
  type IdempotencyLease,
  memoryStore,
  WebhookConfigError,
} from "./index.js";

function clock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (seconds: number) => {
      now += seconds * 1000;
    },
  };
}

function leaseOf(result: ClaimResult): IdempotencyLease {
  if (result.status !== "claimed") throw new Error(`expected a claim, got ${result.status}`);
  return result.lease;
}

runIdempotencyStoreSuite("memoryStore", {
  create: ({ leaseSeconds }) => memoryStore({ leaseSeconds }),
});

describe("memoryStore", () => {
  it("forgets handled ids after ttlSeconds", () => {
    const time = clock();
    const store = memoryStore({ ttlSeconds: 3600, now: time.now });
    store.markDone(leaseOf(store.claim("evt_1")));
    time.advance(3599);
    expect(store.claim("evt_1").status).toBe("done");
    time.advance(2);
    expect(store.claim("evt_1").status).toBe("claimed");
  });

  it("stays within maxEntries, evicting the oldest finished ids first", () => {
    const store = memoryStore({ maxEntries: 1000 });
    for (let i = 0; i < 100_000; i++) store.markDone(leaseOf(store.claim(`evt_${i}`)));
    expect(store.size).toBe(1000);
    expect(store.claim("evt_99999").status).toBe("done");
    expect(store.claim("evt_0").status).toBe("claimed");
  });

  it("never evicts a live claim to make room: a full store refuses new claims instead", () => {
    const store = memoryStore({ maxEntries: 2 });
    const first = leaseOf(store.claim("evt_a"));
    leaseOf(store.claim("evt_b"));
    expect(() => store.claim("evt_c")).toThrow(/full/);
    // The original claims still hold, so their duplicates are not run beside them.
    expect(store.claim("evt_a").status).toBe("in_progress");
    expect(store.claim("evt_b").status).toBe("in_progress");
    store.markDone(first);
    // A finished id may now make room.
    expect(store.claim("evt_c").status).toBe("claimed");
    expect(store.claim("evt_b").status).toBe("in_progress");
  });

  it("makes room from lapsed claims too (a crashed handler's lease)", () => {
    const time = clock();
    const store = memoryStore({ maxEntries: 1, leaseSeconds: 10, now: time.now });
    store.claim("evt_a");
    time.advance(11);
    expect(store.claim("evt_b").status).toBe("claimed");
  });

  it.each([
    ["maxEntries", 0],
    ["maxEntries", 0.5],
    ["maxEntries", 1.5],
    ["maxEntries", "100"],
    ["ttlSeconds", -1],
    ["leaseSeconds", Number.NaN],
  ])("rejects %s = %s with a clear error", (name, value) => {
    expect(() => memoryStore({ [name]: value })).toThrow(WebhookConfigError);
    expect(() => memoryStore({ [name]: value })).toThrow(
      name === "maxEntries" ? /positive integer/ : /positive finite number/,
    );
  });

  it("names a string option as a string", () => {
    expect(() => memoryStore({ maxEntries: "100" as unknown as number })).toThrow(
      'maxEntries must be a positive integer, got "100" (a string).',
    );
  });
});
