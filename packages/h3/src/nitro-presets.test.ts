import { IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";
import { CONFORMANCE_SECRET, signDelivery } from "@kallima/webhooks-conformance";
import * as h3v1 from "h3";
import { describe, expect, it } from "vitest";
import { kallimaWebhooks } from "./index.js";
import { PATH } from "./test-support.js";

/**
 * A request as Nitro 2's serverless and edge presets (AWS Lambda, Netlify, Vercel Edge,
 * Cloudflare…) hand it to h3 1.x: built in memory by unenv's `localCall`, with the headers and the
 * body already read (`req.body`: a Buffer, an ArrayBuffer or a string, `null` for none) and a
 * stream that never ends. Node's own IncomingMessage on an unconnected socket behaves the same.
 */
async function localCall(
  app: h3v1.App,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body: unknown;
    rawHeaders?: boolean;
  },
) {
  const req = new IncomingMessage(new Socket());
  req.method = options.method ?? "POST";
  req.url = PATH;
  req.headers = { host: "localhost", ...options.headers };
  req.rawHeaders =
    options.rawHeaders === false
      ? []
      : Object.entries(req.headers).flatMap(([name, value]) => [name, String(value)]);
  req.complete = true;
  (req as IncomingMessage & { body?: unknown }).body = options.body;
  const res = new ServerResponse(req);
  const chunks: Buffer[] = [];
  // unenv's response keeps what is written; here the original end() runs too, so that h3 sees
  // the answer as sent.
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  const ended = new Promise<void>((resolve) => {
    res.end = ((...args: unknown[]) => {
      if (args[0] && typeof args[0] !== "function") chunks.push(Buffer.from(args[0] as string));
      resolve();
      return end(...args);
    }) as typeof res.end;
  });
  await h3v1.toNodeListener(app)(req, res);
  await ended;
  return { status: res.statusCode, body: Buffer.concat(chunks).toString("utf8") };
}

const eventJson = (id: string) =>
  JSON.stringify({
    id,
    type: "webhook.test",
    api_version: "2026-04-23",
    created_at: "2026-04-23T10:00:00+00:00",
    data: { webhook_id: "wh_1" },
  });

describe("h3 1.x behind Nitro's serverless and edge presets (a request built in memory)", () => {
  const appWith = (seen: unknown[]) =>
    h3v1.createApp().use(
      PATH,
      kallimaWebhooks({
        secret: CONFORMANCE_SECRET,
        logger: false,
        on: {
          "webhook.test": async (event, h3Event) => {
            seen.push(event.id, ((await h3v1.readBody(h3Event)) as { id: string }).id);
          },
        },
      }),
    );

  it.each([
    ["a Buffer", (bytes: Uint8Array) => Buffer.from(bytes)],
    ["an ArrayBuffer", (bytes: Uint8Array) => bytes.slice().buffer],
    ["a string", (bytes: Uint8Array) => new TextDecoder().decode(bytes)],
  ])("verifies req.body given as %s, and leaves it to readBody()", async (_label, asBody) => {
    const seen: unknown[] = [];
    const delivery = signDelivery(eventJson("evt_preset"));
    const answer = await localCall(appWith(seen), {
      headers: delivery.headers,
      body: asBody(delivery.body),
    });
    expect(answer.status).toBe(200);
    expect(seen).toEqual(["evt_preset", "evt_preset"]);
  });

  it("reads the headers when the request has no raw header lines", async () => {
    const delivery = signDelivery(eventJson("evt_no_raw"));
    const answer = await localCall(appWith([]), {
      headers: delivery.headers,
      body: Buffer.from(delivery.body),
      rawHeaders: false,
    });
    expect(answer.status).toBe(200);
  });

  it("answers a POST without a body (req.body null) at once, instead of waiting on the stream", async () => {
    const delivery = signDelivery("");
    const answer = await localCall(appWith([]), { headers: delivery.headers, body: null });
    expect(answer.status).toBe(400);
  });

  it("refuses a body a parser already decoded into an object: 500 raw_body_unavailable", async () => {
    const delivery = signDelivery(eventJson("evt_parsed"));
    const answer = await localCall(appWith([]), {
      headers: delivery.headers,
      body: JSON.parse(eventJson("evt_parsed")),
    });
    expect([answer.status, JSON.parse(answer.body).error.code]).toEqual([
      500,
      "raw_body_unavailable",
    ]);
  });

  it("answers 413 for a kept body over maxBodyBytes", async () => {
    const app = h3v1
      .createApp()
      .use(PATH, kallimaWebhooks({ secret: CONFORMANCE_SECRET, maxBodyBytes: 64, logger: false }));
    const delivery = signDelivery(eventJson("evt_big"));
    const answer = await localCall(app, {
      headers: delivery.headers,
      body: Buffer.from(delivery.body),
    });
    expect(answer.status).toBe(413);
  });
});
