import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { createWebhookHandler, memoryStore } from "@kallima/webhooks";
import { KALLIMA_SECRET, kallimaDelivery } from "./payload.js";

export interface MemoryResult {
  events: number;
  maxEntries: number;
  bodyBytes: number;
  storeSizeAfter: number;
  /** Heap used after a forced GC, in bytes: before any event, once the store is full, at the end. */
  heapBefore: number;
  heapWhenFull: number;
  heapAfter: number;
  /** Heap growth from a full store to the end: what the remaining events added. */
  growthAfterFull: number;
  /** Retained bytes per stored id, from the fill. */
  bytesPerEntry: number;
  /** The store never held more than maxEntries, and the heap did not keep growing once full. */
  withinBound: boolean;
  /** Allowed growth after the store is full (GC noise). */
  slackBytes: number;
}

function collector(): () => void {
  // --expose-gc cannot be passed through every launcher (tsx, vitest): set it at run time.
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  return () => {
    gc();
    gc();
  };
}

/**
 * Part 4: `events` distinct deliveries through handle() with the memory store at its default
 * bound. The heap is measured after a forced GC once the store is full and again at the end:
 * the ids beyond the bound must have been evicted, not kept.
 */
export async function benchMemory(events: number, maxEntries?: number): Promise<MemoryResult> {
  const gc = collector();
  // With no maxEntries, exactly the default store; its bound is read off it once it stops growing.
  const store = maxEntries === undefined ? memoryStore() : memoryStore({ maxEntries });
  let handled = 0;
  const handler = createWebhookHandler({
    secret: KALLIMA_SECRET,
    idempotency: { store },
  }).on("job.completed", () => {
    handled += 1;
  });
  const bodyBytes = 256;
  const send = async (index: number) => {
    const delivery = kallimaDelivery(bodyBytes, `evt_mem_${index.toString(36).padStart(8, "0")}`);
    const result = await handler.handle({
      headers: {
        "x-kallima-signature": delivery.signature,
        "x-kallima-timestamp": delivery.timestamp,
      },
      rawBody: delivery.body,
    });
    if (result.outcome !== "handled") throw new Error(`Event ${index} was ${result.outcome}.`);
  };

  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  let bound = Number.POSITIVE_INFINITY;
  let sent = 0;
  // Fill until the store stops growing: that size is its configured bound.
  while (sent < events) {
    await send(sent);
    sent += 1;
    if (store.size < sent) {
      bound = store.size;
      break;
    }
  }
  gc();
  const heapWhenFull = process.memoryUsage().heapUsed;
  let largest = store.size;
  while (sent < events) {
    await send(sent);
    sent += 1;
    if (store.size > largest) largest = store.size;
  }
  gc();
  const heapAfter = process.memoryUsage().heapUsed;
  if (handled !== events) throw new Error(`${handled} of ${events} events were handled.`);

  const filled = Number.isFinite(bound) ? bound : store.size;
  const bytesPerEntry = Math.max(0, heapWhenFull - heapBefore) / Math.max(1, filled);
  const growthAfterFull = heapAfter - heapWhenFull;
  // A full store's footprint varies a little with GC timing; growth must stay well under what
  // keeping the extra ids would cost (the ids beyond the bound, at the measured cost per id).
  const slackBytes = Math.max(1024 * 1024, 0.1 * (heapWhenFull - heapBefore));
  return {
    events,
    maxEntries: filled,
    bodyBytes,
    storeSizeAfter: store.size,
    heapBefore,
    heapWhenFull,
    heapAfter,
    growthAfterFull,
    bytesPerEntry,
    withinBound:
      Number.isFinite(bound) &&
      largest <= bound &&
      store.size <= bound &&
      growthAfterFull <= slackBytes,
    slackBytes,
  };
}
