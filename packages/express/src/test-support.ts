import { once } from "node:events";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { TEST_SERVER_TIMEOUTS } from "@kallima/webhooks-conformance/node-robustness";
import type { Express } from "express";
import express from "express";
import express4 from "express4";
import request from "supertest";

/** Both supported majors, so that every behaviour test runs on each. */
export const frameworks = [
  ["express 5", express],
  ["express 4", express4],
] as const;

export type ExpressFactory = (typeof frameworks)[number][1];

export const SECRET = "whsec_expressAdapterTestSecret0123456789abcd";

/** Listens on a free loopback port; the caller closes it. */
export async function listen(app: Express): Promise<{ server: Server; url: string }> {
  const server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}` };
}

/**
 * Serves the app on a free loopback port with Node's request timeouts set, checked often enough
 * for a test to see them fire.
 */
export async function listenWithTimeouts(
  app: Express,
  requestTimeoutMs: number,
): Promise<{ server: Server; port: number }> {
  const server = createServer(
    {
      requestTimeout: requestTimeoutMs,
      headersTimeout: Math.min(requestTimeoutMs, 60_000),
      ...TEST_SERVER_TIMEOUTS,
    },
    app,
  );
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, port: (server.address() as AddressInfo).port };
}

export function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // A client's keep-alive socket would otherwise hold close() open for seconds.
    server.closeAllConnections();
  });
}

/**
 * Posts a body in separate chunks with no Content-Length (chunked transfer encoding), so that a
 * size limit can only be enforced while streaming.
 */
export function postChunked(
  url: string,
  headers: Record<string, string>,
  chunks: Uint8Array[],
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: "POST", headers }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (part: Buffer) => parts.push(part));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString("utf8") }),
      );
      res.on("error", reject);
    });
    // The server may answer 413 and stop reading before every chunk is written.
    req.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE" && error.code !== "ECONNRESET") reject(error);
    });
    const writeNext = (index: number) => {
      if (index === chunks.length) {
        req.end();
        return;
      }
      req.write(chunks[index], () => setImmediate(writeNext, index + 1));
    };
    writeNext(0);
  });
}

// superagent would JSON-encode a Buffer sent with a JSON Content-Type; a delivery must go out as is.
const bytesAsIs = (body: unknown) => body as string;

/** Posts exactly these bytes with exactly these headers, through supertest. */
export function postBytes(
  target: Server | Express,
  path: string,
  headers: Record<string, string>,
  body: string | Uint8Array,
) {
  return request(target).post(path).set(headers).serialize(bytesAsIs).send(Buffer.from(body));
}
