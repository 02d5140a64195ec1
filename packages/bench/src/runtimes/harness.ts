/**
 * The verification bench as one Fetch-style worker, bundled by esbuild and served by Bun, Deno
 * and workerd alike (`export default { fetch }`), or imported in process on Node. It holds both
 * builds of the core (each engine, as the export conditions would pick it), a hand-written floor
 * per HMAC the runtime has (Web Crypto with the key imported once; `node:crypto` where it exists)
 * and the bytes → event decoding strategies. Portable code only: no Node API but `node:crypto`
 * and `node:buffer`, which all four runtimes have (workerd with `nodejs_compat`).
 */
import { Buffer, isUtf8 } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";
import * as coreNode from "kallima-core-node";
import * as coreWeb from "kallima-core-web";

const SECRET = "whsec_benchmarkSecretKallima0123456789abcdef";
const TOLERANCE_SECONDS = 300;
export const HARNESS_SIZES = [256, 4096, 65536, 1048576] as const;

const encoder = new TextEncoder();
const lenient = new TextDecoder();
// As the core's decoder: a leading BOM kept (as Buffer#toString keeps it), so both parse alike.
const lenientKeepingBom = new TextDecoder("utf-8", { ignoreBOM: true });
const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A `job.completed` envelope of exactly `bytes` bytes, padded as `payload.ts` pads it. */
function eventBody(bytes: number, id: string): Uint8Array {
  const items: { i: number; name: string; score: number; ok: boolean }[] = [];
  const envelope = {
    id,
    type: "job.completed",
    api_version: "2026-04-23",
    created_at: "2026-04-23T10:00:00+00:00",
    data: { id: "job_7f3c2a", status: "completed", items, note: "" },
  };
  let length = JSON.stringify(envelope).length;
  for (let i = 0; ; i += 1) {
    const item = { i, name: `item-${i}`, score: (i % 97) / 97, ok: i % 3 !== 0 };
    const itemLength = JSON.stringify(item).length + (items.length > 0 ? 1 : 0);
    if (length + itemLength > bytes) break;
    items.push(item);
    length += itemLength;
  }
  envelope.data.note = "x".repeat(bytes - length);
  return encoder.encode(JSON.stringify(envelope));
}

function hexToBytes(hex: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.substr(i * 2, 2), 16);
  return bytes;
}

function bytesToHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

interface Delivery {
  id: string;
  body: Uint8Array;
  timestamp: string;
  signature: string;
}

type Operation = (delivery: Delivery) => unknown;

/** Every case of the bench; each returns the event (or its promise), checked by id. */
export interface HarnessCase {
  name: string;
  /** `floor` cases are the hand-written floors; `core` the core's verify(); `decode` part of the 1 MiB table. */
  kind: "floor" | "core" | "decode";
  run: Operation;
}

function fresh(timestamp: string): void {
  if (Math.abs(Math.floor(Date.now() / 1000) - Number(timestamp)) > TOLERANCE_SECONDS) {
    throw new Error("stale timestamp");
  }
}

export interface Harness {
  runtime: string;
  cases: HarnessCase[];
  /** Runs `n` operations of a case on the body of `size`, checking each; returns the elapsed ms. */
  run(caseName: string, size: number, n: number): Promise<number>;
}

/** Signs one delivery per size (fresh timestamps) and builds every case. */
export async function createHarness(runtime: string): Promise<Harness> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(SECRET),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
  const timestamp = String(Math.floor(Date.now() / 1000));
  const deliveries = new Map<number, Delivery>();
  for (const size of HARNESS_SIZES) {
    const id = `evt_runtime_${size}`;
    const body = eventBody(size, id);
    const content = new Uint8Array([...encoder.encode(`${timestamp}.`), ...body]);
    const signature = bytesToHex(new Uint8Array(await crypto.subtle.sign("HMAC", key, content)));
    deliveries.set(size, { id, body, timestamp, signature });
  }
  const web = new coreWeb.WebhookVerifier({ secret: SECRET });
  const node = new coreNode.WebhookVerifier({ secret: SECRET });
  if (web.engine !== "web-crypto" || node.engine !== "node:crypto") {
    throw new Error(`The builds resolved ${web.engine} and ${node.engine}.`);
  }
  const parse = (text: string) => JSON.parse(text) as { id: string };
  const cases: HarnessCase[] = [
    {
      name: "floor (Web Crypto, key imported once)",
      kind: "floor",
      run: async ({ body, timestamp, signature }) => {
        fresh(timestamp);
        const prefix = encoder.encode(`${timestamp}.`);
        const content = new Uint8Array(
          prefix.byteLength + body.byteLength,
        ) as Uint8Array<ArrayBuffer>;
        content.set(prefix, 0);
        content.set(body, prefix.byteLength);
        if (!(await crypto.subtle.verify("HMAC", key, hexToBytes(signature), content))) {
          throw new Error("bad signature");
        }
        return parse(lenient.decode(body));
      },
    },
    {
      name: "floor (node:crypto)",
      kind: "floor",
      run: ({ body, timestamp, signature }) => {
        fresh(timestamp);
        const expected = createHmac("sha256", SECRET).update(`${timestamp}.`).update(body).digest();
        const received = Buffer.from(signature, "hex");
        if (received.length !== expected.length || !timingSafeEqual(received, expected)) {
          throw new Error("bad signature");
        }
        return parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"));
      },
    },
    {
      name: "core, Web Crypto engine: verify()",
      kind: "core",
      run: ({ body, timestamp, signature }) => web.verify({ payload: body, signature, timestamp }),
    },
    {
      name: "core, node:crypto engine: verify()",
      kind: "core",
      run: ({ body, timestamp, signature }) => node.verify({ payload: body, signature, timestamp }),
    },
    {
      name: "core, node:crypto engine: verifySync()",
      kind: "core",
      run: ({ body, timestamp, signature }) =>
        node.verifySync({ payload: body, signature, timestamp }),
    },
    // Bytes → event, every strategy refusing bytes that are not UTF-8 (the core must).
    {
      name: "decode: TextDecoder fatal",
      kind: "decode",
      run: ({ body }) => parse(fatal.decode(body)),
    },
    {
      name: "decode: TextDecoder, fatal only on U+FFFD",
      kind: "decode",
      run: ({ body }) => {
        const text = lenientKeepingBom.decode(body);
        // A lenient decoder turns every invalid sequence into U+FFFD, so without one the bytes
        // were valid; with one, the fatal decoder decides.
        return parse(text.includes("\uFFFD") ? fatal.decode(body) : text);
      },
    },
    {
      name: "decode: isUtf8 + Buffer#toString",
      kind: "decode",
      run: ({ body }) => {
        if (!isUtf8(body)) throw new Error("not UTF-8");
        return parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"));
      },
    },
    {
      name: "decode: Buffer#toString, isUtf8 only on U+FFFD",
      kind: "decode",
      run: ({ body }) => {
        const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
        if (text.includes("\uFFFD") && !isUtf8(body)) throw new Error("not UTF-8");
        return parse(text);
      },
    },
  ];
  const byName = new Map(cases.map((entry) => [entry.name, entry]));
  return {
    runtime,
    cases,
    async run(caseName, size, n) {
      const entry = byName.get(caseName);
      const delivery = deliveries.get(size);
      if (!entry || !delivery) throw new Error(`No case ${caseName} at ${size} B.`);
      const started = performance.now();
      for (let i = 0; i < n; i++) {
        let event = entry.run(delivery);
        if (event instanceof Promise) event = await event;
        if ((event as { id?: unknown }).id !== delivery.id) {
          throw new Error(`${caseName} did not return ${delivery.id}.`);
        }
      }
      return performance.now() - started;
    },
  };
}

let harness: Promise<Harness> | undefined;

/**
 * `GET /cases` lists the cases; `GET /run?case=…&size=…&n=…` runs a batch and answers the
 * elapsed ms as the runtime's clock saw it (workerd's stands still while code runs: the bench
 * then times the request from outside).
 */
export default {
  async fetch(request: Request): Promise<Response> {
    try {
      const url = new URL(request.url);
      const runtime =
        url.searchParams.get("runtime") ??
        (typeof navigator === "object" ? navigator.userAgent : "unknown");
      harness ??= createHarness(runtime);
      const ready = await harness;
      if (url.pathname === "/cases") {
        return Response.json(ready.cases.map(({ name, kind }) => ({ name, kind })));
      }
      const ms = await ready.run(
        url.searchParams.get("case") ?? "",
        Number(url.searchParams.get("size")),
        Number(url.searchParams.get("n")),
      );
      return Response.json({ ms });
    } catch (error) {
      return new Response(String((error as Error)?.stack ?? error), { status: 500 });
    }
  },
  port: Number(
    (globalThis as { process?: { env?: Record<string, string> } }).process?.env?.PORT ?? 0,
  ),
};
