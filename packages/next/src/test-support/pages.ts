import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { TEST_SERVER_TIMEOUTS } from "@kallima/webhooks-conformance/node-robustness";
import type { NextApiRequest, NextApiResponse } from "next";
// Next.js's own API route runner (the code `next start` runs for pages/api), so that the body
// parser config is exercised exactly as Next applies it. Internal: a Next release that moves it
// fails this import loudly rather than silently testing something else.
import { apiResolver } from "next/dist/server/api-utils/node/api-resolver.js";
import type { KallimaPagesHandler } from "../pages.js";

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Calls the route directly from node:http, with Next's request and response types. */
export const asNext =
  (route: KallimaPagesHandler): NodeHandler =>
  (req, res) =>
    route(req as NextApiRequest, res as NextApiResponse);

/** Serves a route the way `next start` serves pages/api: through Next's apiResolver with the module's config. */
export function throughNext(
  route: KallimaPagesHandler,
  config?: { api: { bodyParser: false } },
): NodeHandler {
  const module = config ? { default: route, config } : { default: route };
  const previewKey = "0".repeat(64);
  return (req, res) =>
    apiResolver(
      req,
      res,
      {},
      module,
      {
        previewModeId: previewKey,
        previewModeEncryptionKey: previewKey,
        previewModeSigningKey: previewKey,
        dev: false,
      },
      false,
      false,
      "/api/kallima-events",
    );
}

/**
 * Serves a handler on a free loopback port. A rejection of the handler is answered 599, so that
 * a test sees it; `requestTimeoutMs` sets Node's own cut of slow uploads, checked often.
 */
export async function listen(
  handle: NodeHandler,
  requestTimeoutMs?: number,
): Promise<{ server: Server; port: number }> {
  const timeouts =
    requestTimeoutMs === undefined
      ? {}
      : {
          requestTimeout: requestTimeoutMs,
          headersTimeout: Math.min(requestTimeoutMs, 60_000),
          ...TEST_SERVER_TIMEOUTS,
        };
  const server = createServer(timeouts, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.statusCode = 599;
      res.end(String(error));
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, port: (server.address() as AddressInfo).port };
}

/** Closes a server, its keep-alive connections included. */
export function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
