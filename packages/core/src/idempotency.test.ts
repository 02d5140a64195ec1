import { describe, expect, it } from "vitest";
import { memoryStore, WebhookConfigError } from "./index.js";

function clock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (seconds: number) => {
      now += seconds * 1000;
    },
  };
}

describe("memoryStore", () => {
  it("claims once, reports in_progress while leased and done after markDone", () => {
    const store = memoryStore();
    expect(store.claim("evt_1")).toBe("claimed");
    expect(store.claim("evt_1")).toBe("in_progress");
    store.markDone("evt_1");
    expect(store.claim("evt_1")).toBe("done");
  });

  it("lets a released claim be claimed again, but never releases a done id", () => {
    const store = memoryStore();
    store.claim("evt_1");
    store.release("evt_1");
    expect(store.claim("evt_1")).toBe("claimed");
    store.markDone("evt_1");
    store.release("evt_1");
    expect(store.claim("evt_1")).toBe("done");
  });

  it("lets a lapsed lease be claimed again (a crashed handler's event is retried)", () => {
    const time = clock();
    const store = memoryStore({ leaseSeconds: 30, now: time.now });
    store.claim("evt_1");
    time.advance(29);
    expect(store.claim("evt_1")).toBe("in_progress");
    time.advance(2);
    expect(store.claim("evt_1")).toBe("claimed");
  });

  it("forgets handled ids after ttlSeconds", () => {
    const time = clock();
    const store = memoryStore({ ttlSeconds: 3600, now: time.now });
    store.claim("evt_1");
    store.markDone("evt_1");
    time.advance(3599);
    expect(store.claim("evt_1")).toBe("done");
    time.advance(2);
    expect(store.claim("evt_1")).toBe("claimed");
  });

  it("stays within maxEntries, evicting the oldest first", () => {
    const store = memoryStore({ maxEntries: 1000 });
    for (let i = 0; i < 100_000; i++) {
      store.claim(`evt_${i}`);
      store.markDone(`evt_${i}`);
    }
    expect(store.size).toBe(1000);
    expect(store.claim("evt_99999")).toBe("done");
    expect(store.claim("evt_0")).toBe("claimed");
  });

  it.each([
    ["maxEntries", 0],
    ["ttlSeconds", -1],
    ["leaseSeconds", Number.NaN],
  ])("rejects %s = %s", (name, value) => {
    expect(() => memoryStore({ [name]: value })).toThrow(WebhookConfigError);
  });
});
