import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { TEST_SERVER_TIMEOUTS } from "@kallima/webhooks-conformance/node-robustness";
import Koa from "koa";
import Koa2 from "koa2";

/** Both supported majors, so that every behaviour test runs on each. */
export const frameworks = [
  ["koa 3", Koa],
  ["koa 2", Koa2],
] as const;

export type KoaClass = (typeof frameworks)[number][1];

export const SECRET = "whsec_koaAdapterTestSecret0123456789abcdef";

export interface ListeningApp {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the app on a free loopback port with Node's request timeouts set, checked often enough
 * for a test to see them fire.
 */
export async function listen(app: Koa, requestTimeoutMs = 10_000): Promise<ListeningApp> {
  // Koa logs every error it handles to stderr unless the app is silent.
  app.silent = true;
  const server = createServer(
    {
      requestTimeout: requestTimeoutMs,
      headersTimeout: Math.min(requestTimeoutMs, 60_000),
      ...TEST_SERVER_TIMEOUTS,
    },
    app.callback(),
  );
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // A client's keep-alive socket would otherwise hold close() open for seconds.
        server.closeAllConnections();
      }),
  };
}
