import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";
import { countHandled } from "../counter.js";

// The framework floor: the same hand-written check as src/payload.ts floorVerify (kept inline
// so that the Next build compiles nothing outside this app).
const secret = process.env.KALLIMA_WEBHOOK_SECRET;

function reject() {
  return new Response('{"error":"invalid"}', {
    status: 401,
    headers: { "content-type": "application/json" },
  });
}

export async function POST(request) {
  const timestamp = request.headers.get("x-kallima-timestamp");
  const signature = request.headers.get("x-kallima-signature");
  if (!timestamp || !signature) return reject();
  if (Math.abs(Math.floor(Date.now() / 1000) - Number(timestamp)) > 300) return reject();
  const body = Buffer.from(await request.arrayBuffer());
  const expected = createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest();
  const received = Buffer.from(signature, "hex");
  if (received.length !== expected.length || !timingSafeEqual(received, expected)) return reject();
  JSON.parse(body.toString("utf8"));
  countHandled();
  return new Response('{"received":true}', {
    status: 200,
    headers: { "content-type": "application/json" },
  });
}
