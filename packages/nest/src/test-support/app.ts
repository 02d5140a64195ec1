import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { signPayload } from "@kallima/webhooks/testing";
import { TEST_SERVER_TIMEOUTS } from "@kallima/webhooks-conformance/node-robustness";
import type { INestApplication, ModuleMetadata, NestApplicationOptions } from "@nestjs/common";
import { FastifyAdapter } from "@nestjs/platform-fastify";
import { Test } from "@nestjs/testing";

export type Platform = "express" | "fastify";
export const PLATFORMS: readonly Platform[] = ["express", "fastify"];

export interface RunningApp {
  app: INestApplication;
  url: string;
  /** The Node server under either platform. */
  server: Server;
  port: number;
  close(): Promise<void>;
}

/**
 * Sets Node's request timeouts on the app's server. Call it before `listen()`: Node reads
 * `connectionsCheckingInterval` (how often it checks them) when the server starts listening.
 */
export function setRequestTimeout(app: INestApplication, requestTimeoutMs: number): void {
  const server = app.getHttpServer() as Server;
  server.requestTimeout = requestTimeoutMs;
  server.headersTimeout = Math.min(requestTimeoutMs, server.headersTimeout);
  // A documented option of http.createServer, which Nest calls for us; @types/node lacks the property.
  Object.assign(server, TEST_SERVER_TIMEOUTS);
}

/** Compiles a testing module and serves it on 127.0.0.1 with a free port, on either platform. */
export async function startApp(
  platform: Platform,
  metadata: ModuleMetadata,
  options: NestApplicationOptions = { rawBody: true },
  configure?: (app: INestApplication) => void,
): Promise<RunningApp> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const appOptions: NestApplicationOptions = { logger: false, ...options };
  const app =
    platform === "express"
      ? moduleRef.createNestApplication(appOptions)
      : moduleRef.createNestApplication(new FastifyAdapter(), appOptions);
  configure?.(app);
  await app.listen(0, "127.0.0.1");
  const url = (await app.getUrl()).replace("[::1]", "127.0.0.1");
  const server = app.getHttpServer() as Server;
  const { port } = server.address() as AddressInfo;
  return { app, url, server, port, close: () => app.close() };
}

/** Signs a payload like Kallima and posts it; `tamper` edits the body after signing. */
export async function deliver(
  url: string,
  payload: object | string,
  options: { secret: string; timestamp?: number; tamper?: (body: string) => string },
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const signed = await signPayload({
    secret: options.secret,
    payload,
    ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
  });
  const body = options.tamper ? options.tamper(String(signed.body)) : signed.body;
  const response = await fetch(url, { method: "POST", headers: signed.headers, body });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}
