import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { TEST_SERVER_TIMEOUTS } from "@kallima/webhooks-conformance/node-robustness";
import Fastify, { type FastifyInstance } from "fastify";
import Fastify4 from "fastify4";

/**
 * Both supported majors, so that every behaviour test runs on each. The tests are written
 * against Fastify 5's types; test/consumer-fastify4 checks the built types against Fastify 4's.
 */
export const frameworks = [
  ["fastify 5", Fastify],
  ["fastify 4", Fastify4 as unknown as typeof Fastify],
] as const;

export type FastifyFactory = (typeof frameworks)[number][1];

export const SECRET = "whsec_fastifyAdapterTestSecret0123456789ab";

export interface ListeningApp {
  app: FastifyInstance;
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

/**
 * A Fastify app on its own Node server with Node's request timeouts set (checked often enough
 * for a test to see them fire), built by `build` and listening on a free loopback port.
 */
export async function listen(
  build: (app: FastifyInstance) => unknown,
  requestTimeoutMs = 10_000,
  factory: FastifyFactory = Fastify,
): Promise<ListeningApp> {
  const app = factory({
    logger: false,
    serverFactory: (handler) =>
      createServer(
        {
          requestTimeout: requestTimeoutMs,
          headersTimeout: Math.min(requestTimeoutMs, 60_000),
          ...TEST_SERVER_TIMEOUTS,
        },
        handler,
      ),
  });
  await build(app);
  await app.listen({ port: 0, host: "127.0.0.1" });
  const server = app.server as Server;
  const { port } = server.address() as AddressInfo;
  return {
    app,
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    async close() {
      // A client's keep-alive socket would otherwise hold close() open for seconds.
      server.closeAllConnections();
      await app.close();
    },
  };
}
