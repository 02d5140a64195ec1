import { Buffer } from "node:buffer";
import { floorIdRecorder, floorVerify } from "../payload.js";

/** What every benchmark server shares: the floor check and the count of events handled. */
export interface ServerContext {
  secret: string;
  /** Called once per event a route accepted (floor) or a handler ran for (adapter). */
  count: () => void;
}

export type Mode = "floor" | "adapter";

export const WEBHOOK_PATH = "/webhook";
export const STATS_PATH = "/__stats";

type HeaderBag = Record<string, string | string[] | undefined>;

function single(value: string | string[] | null | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

// Module level, not a closure per request: tsx names every nested function with a helper call
// (keepNames), which cost the floor routes about 0.7 µs a request in a CPU profile.
function readHeader(
  headers: HeaderBag | { get(name: string): string | null },
  name: string,
): string | undefined {
  return typeof headers.get === "function"
    ? single((headers as { get(name: string): string | null }).get(name))
    : single((headers as HeaderBag)[name]);
}

/**
 * The ids the floor routes of this process have seen, bounded as the adapters' default memory
 * store is (10,000): a receiver must dedupe (PROTOCOL.md), so the floor does what a hand-written
 * one does at least, as part 2's floor does.
 */
const recordFloorId = floorIdRecorder(10_000);

/**
 * The hand-written route of each framework's floor: read both headers, run the floor check on
 * the raw bytes, dedupe the id, answer 200 `{ received: true }` (a repeat: without running
 * anything) or 401.
 */
export function floorRoute(
  ctx: ServerContext,
  headers: HeaderBag | { get(name: string): string | null },
  body: Buffer | Uint8Array,
): { status: number; body: string } {
  const timestamp = readHeader(headers, "x-kallima-timestamp");
  const signature = readHeader(headers, "x-kallima-signature");
  if (!timestamp || !signature) return { status: 401, body: '{"error":"missing headers"}' };
  let event: { id: string };
  try {
    const bytes = Buffer.isBuffer(body)
      ? body
      : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    event = floorVerify(ctx.secret, timestamp, signature, bytes);
  } catch {
    return { status: 401, body: '{"error":"invalid"}' };
  }
  if (!recordFloorId(event.id)) return { status: 200, body: '{"received":true,"duplicate":true}' };
  ctx.count();
  return { status: 200, body: '{"received":true}' };
}
