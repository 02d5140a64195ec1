import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createApiListener } from "./api.js";
import { LocalKallima, type LocalKallimaOptions } from "./local-kallima.js";

/** The dev server's default port. */
export const DEFAULT_DEV_PORT = 7420;

/** Options of {@link startDevServer}. */
export interface DevServerOptions extends LocalKallimaOptions {
  /** Default {@link DEFAULT_DEV_PORT}; 0 picks a free port. */
  port?: number;
  /** Default `127.0.0.1`: the dev server is for this machine only. */
  host?: string;
  /** When set, every `/v1/` call needs `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
}

/** A running dev server. */
export interface DevServer {
  /** Base URL, e.g. `http://127.0.0.1:7420`: the client's and the CLI's `baseUrl`. */
  url: string;
  /** The sender behind the API, for in-process use (tests, the demo). */
  kallima: LocalKallima;
  server: Server;
  /** Stops listening, stops planned retries, waits for attempts in flight, saves the state. */
  close(): Promise<void>;
}

/**
 * Starts the local Kallima sender: the endpoints API on localhost, deliveries with Kallima's
 * semantics, and the page at `/`.
 *
 * @example
 * ```ts
 * const dev = await startDevServer({ port: 0, stateFile: ".kallima/dev.db" });
 * await fetch(`${dev.url}/v1/webhooks`, { method: "POST", body: JSON.stringify({ url }) });
 * await dev.close();
 * ```
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const kallima = new LocalKallima(options);
  const server = createServer(
    createApiListener(kallima, options.apiKey === undefined ? {} : { apiKey: options.apiKey }),
  );
  const host = options.host ?? "127.0.0.1";
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? DEFAULT_DEV_PORT, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    await kallima.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}`,
    kallima,
    server,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await kallima.close();
      })();
      return closing;
    },
  };
}
