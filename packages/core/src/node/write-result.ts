import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { WebhookResult } from "../result.js";

/** How long a client gets to read a 413 before a connection it keeps uploading on is cut. */
const UNREAD_BODY_GRACE_MS = 1000;

/**
 * Readies a Node response for a core result that a framework then sends through its own reply
 * (Fastify's `reply`, Koa's `ctx`), so that it behaves as {@link writeResult} does. False when
 * the answer can no longer be sent: it is complete, the connection is gone, or something else
 * already sent the headers (the connection is then cut: Kallima retries a failed delivery). When
 * the request body was not read to its end (a 413, or an answer before the upload finished), it
 * marks the answer `Connection: close` and closes the connection after it, rather than reading
 * whatever the client goes on sending.
 *
 * @example
 * ```ts
 * if (prepareResultResponse(reply.raw)) reply.code(result.status).headers(result.headers).send(result.body);
 * ```
 */
export function prepareResultResponse(res: ServerResponse): boolean {
  if (res.writableEnded || res.destroyed) return false;
  if (res.headersSent) {
    // Something else (a middleware, an interceptor) started the answer: its status can no longer
    // be set. A cut connection makes Kallima retry, where a hanging request, or a status someone
    // else chose, would not.
    res.destroy();
    return false;
  }
  const req = (res as ServerResponse & { req?: IncomingMessage }).req;
  if (req !== undefined && !req.complete) {
    res.setHeader("connection", "close");
    res.shouldKeepAlive = false;
    res.once("finish", () => {
      // Injected requests (Fastify's inject, light-my-request) carry a stand-in with no end().
      const socket: Partial<Socket> | null | undefined = req.socket;
      if (typeof socket?.end !== "function") return;
      socket.end();
      setTimeout(() => socket.destroy?.(), UNREAD_BODY_GRACE_MS).unref();
    });
  }
  return true;
}

/**
 * Writes a core result to a Node response: status, headers and JSON body. When the request body
 * was not read to its end (a 413, or an answer before the upload finished), the answer carries
 * `Connection: close` and the connection is closed after it, rather than reading whatever the
 * client goes on sending. When something else already sent the headers, it cuts the connection
 * (Kallima retries a failed delivery); it does nothing once the answer is complete or the
 * connection is gone.
 *
 * @example
 * ```ts
 * writeResult(res, await handler.handle({ headers: req.headers, rawBody }));
 * ```
 */
export function writeResult(res: ServerResponse, result: WebhookResult): void {
  if (!prepareResultResponse(res)) return;
  res.statusCode = result.status;
  for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value);
  res.end(result.body);
}
