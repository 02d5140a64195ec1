import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerOptions } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createWebhookHandler, type WebhookHandler, type WebhookResult } from "./index.js";
import { handleNodeRequest } from "./node.js";
import { jobCompletedEvent, signPayload } from "./testing.js";

// A stranger's request must never take the receiver down: these tests drive a real server with
// raw sockets (partial bodies, resets, repeated headers, endless uploads) and watch the process.

const SECRET = "whsec_nodeHardeningSecret000000000000000";

const crashes: unknown[] = [];
const onCrash = (error: unknown) => void crashes.push(error);
const servers: Server[] = [];
beforeEach(() => {
  crashes.length = 0;
  process.on("unhandledRejection", onCrash);
  process.on("uncaughtException", onCrash);
});
afterEach(async () => {
  // Unhandled rejections surface on a later tick: give them one before checking.
  await new Promise((resolve) => setTimeout(resolve, 50));
  process.off("unhandledRejection", onCrash);
  process.off("uncaughtException", onCrash);
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  expect(crashes).toEqual([]);
});

interface Receiver {
  port: number;
  runs: string[];
  results: WebhookResult[];
  server: Server;
}

/** The documented pattern, exactly: `createServer((req, res) => handleNodeRequest(…))`. */
async function receiver(
  options: {
    maxBodyBytes?: number;
    configure?: (server: Server) => void;
    serverOptions?: ServerOptions;
  } = {},
): Promise<Receiver> {
  const runs: string[] = [];
  const results: WebhookResult[] = [];
  const handler: WebhookHandler = createWebhookHandler({
    secret: SECRET,
    ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
    on: { "job.completed": (event) => void runs.push(event.id) },
  });
  const server = createServer(options.serverOptions ?? {}, (req, res) =>
    handleNodeRequest(handler, req, res).then((result) => void results.push(result)),
  );
  options.configure?.(server);
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { port: (server.address() as AddressInfo).port, runs, results, server };
}

async function rawSocket(port: number): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  return socket;
}

/** Sends raw request bytes and reads until the server closes or `until` matches. */
async function exchange(port: number, request: string | Buffer): Promise<string> {
  const socket = await rawSocket(port);
  let answer = "";
  socket.on("data", (chunk) => {
    answer += chunk.toString("latin1");
    // One answer is enough: close, so keep-alive does not hold the test open.
    if (/\r\n\r\n[\s\S]*\}$/.test(answer)) socket.end();
  });
  socket.write(request);
  await once(socket, "close");
  return answer;
}

function head(lines: string[], body: string | Buffer): Buffer {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  return Buffer.concat([
    Buffer.from(
      [...lines, `Content-Length: ${bytes.byteLength}`, "Connection: close", "", ""].join("\r\n"),
    ),
    bytes,
  ]);
}

async function signedDelivery() {
  const signed = await signPayload({ secret: SECRET, payload: jobCompletedEvent() });
  return { body: String(signed.body), signature: signed.signature, timestamp: signed.timestamp };
}

const statusOf = (answer: string) => Number(answer.slice(9, 12));

/** A real delivery after the abuse: the receiver must still be up and answering. */
async function stillServes(target: Receiver): Promise<void> {
  const { body, signature, timestamp } = await signedDelivery();
  const answer = await exchange(
    target.port,
    head(
      [
        "POST /kallima-events HTTP/1.1",
        "Host: x",
        `X-Kallima-Signature: ${signature}`,
        `X-Kallima-Timestamp: ${timestamp}`,
      ],
      body,
    ),
  );
  expect(statusOf(answer)).toBe(200);
}

describe("handleNodeRequest on a real server", () => {
  it("survives a client that sends part of the body and closes the connection", async () => {
    const target = await receiver();
    const { body, signature, timestamp } = await signedDelivery();
    const socket = await rawSocket(target.port);
    socket.write(
      [
        "POST /kallima-events HTTP/1.1",
        "Host: x",
        `X-Kallima-Signature: ${signature}`,
        `X-Kallima-Timestamp: ${timestamp}`,
        `Content-Length: ${body.length}`,
        "",
        body.slice(0, 20),
      ].join("\r\n"),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.end();
    await expect.poll(() => target.results.length).toBe(1);
    socket.destroy();
    expect(target.results[0]).toMatchObject({ status: 400, outcome: "rejected" });
    expect(target.results[0]?.error?.code).toBe("request_aborted");
    expect(target.runs).toEqual([]);
    await stillServes(target);
  });

  it("survives a connection reset mid-body", async () => {
    const target = await receiver();
    const socket = await rawSocket(target.port);
    socket.write('POST /kallima-events HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n{"id":');
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.resetAndDestroy();
    await expect.poll(() => target.results.length).toBe(1);
    expect(target.results[0]?.error?.code).toBe("request_aborted");
    await stillServes(target);
  });

  it("survives Node's own request timeout cutting a slow upload", async () => {
    // The timeout is checked on connectionsCheckingInterval; keep both short for the test.
    const target = await receiver({
      serverOptions: { requestTimeout: 300, connectionsCheckingInterval: 50 },
    });
    const socket = await rawSocket(target.port);
    socket.on("error", () => {});
    socket.write("POST /kallima-events HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n{");
    const drip = setInterval(() => socket.write(" "), 50);
    await expect.poll(() => target.results.length, { timeout: 5000 }).toBe(1);
    clearInterval(drip);
    socket.destroy();
    expect(target.results[0]?.error?.code).toBe("request_aborted");
    await stillServes(target);
  });

  it.each([
    ["X-Kallima-Signature twice (the same valid value)", "sig-sig", 401, "invalid_signature"],
    ["X-Kallima-Signature twice (valid and garbage)", "sig-junk", 401, "invalid_signature"],
    ["X-Kallima-Timestamp twice", "ts-ts", 400, "invalid_timestamp"],
    ["Kallima-Signature twice", "combined-combined", 401, "invalid_signature"],
  ])("refuses %s and runs nothing", async (_label, shape, status, code) => {
    const target = await receiver();
    const { body, signature, timestamp } = await signedDelivery();
    const lines: Record<string, string[]> = {
      "sig-sig": [
        `X-Kallima-Signature: ${signature}`,
        `X-Kallima-Signature: ${signature}`,
        `X-Kallima-Timestamp: ${timestamp}`,
      ],
      "sig-junk": [
        `X-Kallima-Signature: ${signature}`,
        `x-kallima-signature: ${"0".repeat(64)}`,
        `X-Kallima-Timestamp: ${timestamp}`,
      ],
      "ts-ts": [
        `X-Kallima-Signature: ${signature}`,
        `X-Kallima-Timestamp: ${timestamp}`,
        `X-Kallima-Timestamp: ${timestamp}`,
      ],
      "combined-combined": [
        `Kallima-Signature: t=${timestamp},v1=${signature}`,
        `Kallima-Signature: t=${timestamp},v1=${signature}`,
      ],
    };
    const answer = await exchange(
      target.port,
      head(["POST /kallima-events HTTP/1.1", "Host: x", ...lines[shape]!], body),
    );
    expect(statusOf(answer)).toBe(status);
    expect(answer).toContain(`"code":"${code}"`);
    expect(target.runs).toEqual([]);
  });

  it.each(["GET", "PUT", "DELETE", "PATCH"])(
    "answers a signed %s with 405 and Allow: POST",
    async (method) => {
      const target = await receiver();
      const { body, signature, timestamp } = await signedDelivery();
      const answer = await exchange(
        target.port,
        head(
          [
            `${method} /kallima-events HTTP/1.1`,
            "Host: x",
            `X-Kallima-Signature: ${signature}`,
            `X-Kallima-Timestamp: ${timestamp}`,
          ],
          body,
        ),
      );
      expect(statusOf(answer)).toBe(405);
      expect(answer.toLowerCase()).toContain("allow: post");
      expect(target.runs).toEqual([]);
    },
  );

  it("closes the connection after a 413 instead of reading the rest of the upload", async () => {
    let bytesRead = 0;
    const target = await receiver({
      maxBodyBytes: 1024,
      configure: (server) =>
        server.on("request", (req: IncomingMessage) =>
          req.socket.on("close", () => {
            bytesRead = req.socket.bytesRead;
          }),
        ),
    });
    const socket = await rawSocket(target.port);
    socket.on("error", () => {});
    let answer = "";
    socket.on("data", (chunk) => {
      answer += chunk.toString("latin1");
    });
    // Chunked, so no Content-Length lets the server refuse it before reading.
    socket.write("POST /kallima-events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const frame = Buffer.concat([
      Buffer.from(`${chunk.length.toString(16)}\r\n`),
      chunk,
      Buffer.from("\r\n"),
    ]);
    const started = Date.now();
    let sent = 0;
    // Not events.once: it would reject on the EPIPE the client expects once the server hangs up.
    const closed = new Promise((resolve) => socket.once("close", resolve));
    // Keep uploading (up to 64 MiB, at most 10 s) until the server closes the connection.
    while (!socket.destroyed && sent < 64 * 1024 * 1024 && Date.now() - started < 10_000) {
      if (!socket.write(frame)) {
        await new Promise((resolve) => {
          socket.once("drain", resolve);
          socket.once("close", resolve);
        });
      }
      sent += frame.length;
    }
    await closed;
    expect(statusOf(answer)).toBe(413);
    expect(answer.toLowerCase()).toContain("connection: close");
    await expect.poll(() => bytesRead).toBeGreaterThan(0);
    // Only socket buffers' worth was read past the limit, not the upload.
    expect(bytesRead).toBeLessThan(8 * 1024 * 1024);
    expect(sent).toBeLessThan(64 * 1024 * 1024);
    await stillServes(target);
  });
});

describe("prepareResultResponse on an injected request (no real socket)", () => {
  it("answers an unread body without touching the stand-in socket", async () => {
    const { IncomingMessage: Incoming, ServerResponse: Response } = await import("node:http");
    const { prepareResultResponse } = await import("./node.js");
    // What light-my-request (Fastify's inject) hands over: a socket-like object with no end().
    const standIn = { remoteAddress: "127.0.0.1" } as unknown as Socket;
    const req = new Incoming(standIn);
    const res = new Response(req);
    expect(req.complete).toBe(false);
    expect(prepareResultResponse(res)).toBe(true);
    expect(res.getHeader("connection")).toBe("close");
    // The close-after-answer step runs on "finish": it must not call end() on the stand-in.
    expect(() => res.emit("finish")).not.toThrow();
  });
});
