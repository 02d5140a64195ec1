// Test harness: the same webhook route on h3 1.x (the `h3` devDependency, as Nuxt 3/4 and Nitro 2
// install it) and h3 2 (`h3-v2`, an alias of h3@2, as Nitro 3 installs it), served on a real Node
// listener or called in-process through each major's Fetch entry.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type ConformanceApp,
  type ConformanceRequest,
  fromFetchResponse,
} from "@kallima/webhooks-conformance";
import { TEST_SERVER_TIMEOUTS } from "@kallima/webhooks-conformance/node-robustness";
import * as h3v1 from "h3";
import * as h3v2 from "h3-v2";
import { toNodeHandler } from "h3-v2/node";

export const PATH = "/kallima-events";

/** What a test mounts: the adapter's handler, and optionally a handler before and after it. */
export interface Mount {
  /** Runs before the webhook route for every request (`app.use`). */
  before?: (event: never) => unknown;
  /** The webhook route, registered for every method. */
  route: (event: never) => unknown;
  /** A route after it, for verify-only (registered for every method too). */
  after?: (event: never) => unknown;
  /** The app's response hook (1.x `onBeforeResponse`, 2 `onResponse`): the status it saw. */
  onResponse?: (status: number) => void;
}

export type Major = "h3 1.x" | "h3 2";
export type Transport = "node" | "fetch";

/** An h3 app of either major with this route, as a Node request listener and a Fetch handler. */
export function buildApp(major: Major, mount: Mount) {
  if (major === "h3 1.x") {
    const onResponse = mount.onResponse;
    const app = h3v1.createApp(
      onResponse ? { onBeforeResponse: (event) => onResponse(event.node.res.statusCode) } : {},
    );
    if (mount.before) app.use(h3v1.defineEventHandler(mount.before as h3v1.EventHandler));
    if (mount.after) {
      app.use(PATH, mount.route as h3v1.EventHandler);
      app.use(PATH, mount.after as h3v1.EventHandler);
    } else {
      app.use(PATH, mount.route as h3v1.EventHandler);
    }
    return {
      listener: h3v1.toNodeListener(app),
      fetch: h3v1.toWebHandler(app) as (request: Request) => Promise<Response>,
    };
  }
  const onResponse = mount.onResponse;
  const app = new h3v2.H3(
    onResponse ? { onResponse: (response: Response) => onResponse(response.status) } : {},
  );
  if (mount.before) app.use(mount.before as unknown as h3v2.Middleware);
  if (mount.after) {
    app.all(PATH, mount.after as h3v2.EventHandler, {
      middleware: [mount.route as unknown as h3v2.Middleware],
    });
  } else {
    app.all(PATH, mount.route as h3v2.EventHandler);
  }
  return {
    listener: toNodeHandler(app),
    fetch: (request: Request) => Promise.resolve(app.fetch(request)),
  };
}

/** Serves a Node request listener on 127.0.0.1 with Node's request timeouts set. */
export async function listen(
  listener: Parameters<typeof createServer>[1],
  requestTimeoutMs = 30_000,
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer(
    {
      requestTimeout: requestTimeoutMs,
      headersTimeout: Math.min(requestTimeoutMs, 60_000),
      ...TEST_SERVER_TIMEOUTS,
    },
    listener,
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The conformance app for a mount: over a real socket, or through the major's Fetch entry. */
export async function serveForSuite(
  major: Major,
  transport: Transport,
  mount: Mount,
): Promise<ConformanceApp> {
  const app = buildApp(major, mount);
  // A GET or HEAD cannot carry a body in Fetch: it goes without one.
  const toInit = ({ method = "POST", headers, body }: ConformanceRequest): RequestInit =>
    method === "GET" || method === "HEAD"
      ? { method, headers }
      : { method, headers, body: body as RequestInit["body"] };
  if (transport === "fetch") {
    return {
      send: async (request) =>
        fromFetchResponse(await app.fetch(new Request(`http://localhost${PATH}`, toInit(request)))),
    };
  }
  const served = await listen(app.listener);
  return {
    send: async (request) =>
      fromFetchResponse(await fetch(`http://127.0.0.1:${served.port}${PATH}`, toInit(request))),
    close: served.close,
  };
}
