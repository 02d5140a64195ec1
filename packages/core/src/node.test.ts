import { once } from "node:events";
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createWebhookHandler, PayloadTooLargeError, RawBodyUnavailableError } from "./index.js";
import { handleNodeRequest, keepRawBody, type NodeWebhookRequest, readRawBody } from "./node.js";
import { jobCompletedEvent, signPayload } from "./testing.js";

const SECRET = "whsec_nodeHelpersSecret00000000000000000";
const servers: Array<{ close(callback: () => void): void }> = [];
afterEach(async () => {
  for (const server of servers.splice(0))
    await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Starts a real server whose requests go to `listener`; returns its URL. */
async function serve(
  listener: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/** Reads the body with readRawBody and answers with its length or the error code. */
function echo(
  prepare: (req: NodeWebhookRequest) => Promise<void> | void = () => {},
  maxBodyBytes = 64,
) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    await prepare(req as NodeWebhookRequest);
    try {
      const body = await readRawBody(req as NodeWebhookRequest, {
        maxBodyBytes,
        consumedBodyHint: "HINT",
      });
      res.end(JSON.stringify({ bytes: Buffer.from(body).toString("hex") }));
    } catch (error) {
      res.statusCode = 599;
      res.end(
        JSON.stringify({
          code: (error as { code?: string }).code,
          message: (error as Error).message,
        }),
      );
    }
  };
}

describe("readRawBody", () => {
  it("reads the untouched stream byte for byte", async () => {
    const url = await serve(echo());
    const bytes = Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0xff, 0x7d]);
    const response = await fetch(url, { method: "POST", body: bytes });
    expect(await response.json()).toEqual({ bytes: bytes.toString("hex") });
  });

  it("prefers req.rawBody, then a Buffer req.body", async () => {
    const fromRawBody = await serve(
      echo(async (req) => {
        for await (const _chunk of req);
        req.rawBody = Buffer.from("kept");
        req.body = { parsed: true };
      }),
    );
    expect(await (await fetch(fromRawBody, { method: "POST", body: "sent" })).json()).toEqual({
      bytes: Buffer.from("kept").toString("hex"),
    });
    const fromBuffer = await serve(
      echo(async (req) => {
        for await (const _chunk of req);
        req.body = Buffer.from("raw parser");
      }),
    );
    expect(await (await fetch(fromBuffer, { method: "POST", body: "sent" })).json()).toEqual({
      bytes: Buffer.from("raw parser").toString("hex"),
    });
  });

  it("refuses a body a parser consumed without keeping bytes, and never re-serializes it", async () => {
    const url = await serve(
      echo(async (req) => {
        let text = "";
        for await (const chunk of req) text += chunk;
        req.body = JSON.parse(text);
      }),
    );
    const response = await fetch(url, { method: "POST", body: '{"a":1}' });
    expect(response.status).toBe(599);
    expect(await response.json()).toEqual({
      code: "raw_body_unavailable",
      message: expect.stringContaining("HINT"),
    });
  });

  it("answers 413 from Content-Length without reading, and while streaming a chunked body", async () => {
    const url = await serve(echo());
    const declared = await fetch(url, { method: "POST", body: "x".repeat(65) });
    expect(await declared.json()).toMatchObject({ code: "payload_too_large" });
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(
        url,
        { method: "POST", headers: { "transfer-encoding": "chunked" } },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      request.on("error", reject);
      for (let i = 0; i < 10; i++) request.write("x".repeat(16));
      request.end();
    });
    expect(status).toBe(599);
  });

  it("checks the size of kept bodies too", async () => {
    const req = { rawBody: Buffer.alloc(65), headers: {} } as unknown as NodeWebhookRequest;
    await expect(readRawBody(req, { maxBodyBytes: 64 })).rejects.toBeInstanceOf(
      PayloadTooLargeError,
    );
  });

  it("keepRawBody stores the buffer body-parser read", () => {
    const req = {} as NodeWebhookRequest;
    keepRawBody(req, undefined, Buffer.from("abc"));
    expect(req.rawBody).toEqual(Buffer.from("abc"));
  });

  it("names the default fix when no hint is given", async () => {
    const req = { readableEnded: true, headers: {} } as unknown as NodeWebhookRequest;
    const error = await readRawBody(req).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RawBodyUnavailableError);
    expect((error as Error).message).toContain("keepRawBody");
  });
});

describe("handleNodeRequest", () => {
  it("verifies, dispatches and writes the answer on a real server", async () => {
    const seen: string[] = [];
    const handler = createWebhookHandler({
      secret: SECRET,
      on: { "job.completed": (event) => void seen.push(event.id) },
    });
    const url = await serve((req, res) => void handleNodeRequest(handler, req, res));
    const event = jobCompletedEvent();
    const { body, headers } = await signPayload({ secret: SECRET, payload: event });
    const response = await fetch(url, { method: "POST", headers, body });
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(seen).toEqual([event.id]);
  });
});
