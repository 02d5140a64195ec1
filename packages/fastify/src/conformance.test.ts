import {
  type ConformanceApp,
  type ConformanceRequest,
  expectExportParity,
  fromFetchResponse,
  runConformanceSuite,
} from "@kallima/webhooks-conformance";
import type { FastifyInstance } from "fastify";
import { expect, it } from "vitest";
import {
  type FastifyWebhookContext,
  type KallimaFastifyVerifyOptions,
  kallimaWebhooks,
  verifyKallimaWebhook,
  type WebhookHandlerOptions,
} from "./index.js";
import { type FastifyFactory, frameworks, listen } from "./test-support.js";

const ROUTE = "/kallima-events";

async function serve(
  factory: FastifyFactory,
  build: (app: FastifyInstance) => unknown,
): Promise<ConformanceApp> {
  const running = await listen(build, undefined, factory);
  return {
    send: async ({ method = "POST", headers, body }: ConformanceRequest) =>
      fromFetchResponse(await fetch(`${running.url}${ROUTE}`, { method, headers, body })),
    close: () => running.close(),
  };
}

/** `{ request, reply }` of one Fastify request: its own request and reply, as Fastify made them. */
function isFastifyContext(context: unknown): boolean {
  const { request, reply } = (context ?? {}) as Partial<FastifyWebhookContext>;
  return (
    request !== undefined &&
    reply !== undefined &&
    reply.request === request &&
    request.url === ROUTE &&
    typeof reply.code === "function" &&
    typeof request.server?.inject === "function"
  );
}

for (const [name, factory] of frameworks) {
  runConformanceSuite(`${name} plugin`, {
    setup: (options) =>
      serve(factory, (app) =>
        app.register(kallimaWebhooks, {
          ...(options as WebhookHandlerOptions<FastifyWebhookContext>),
          path: ROUTE,
        }),
      ),
    contract: {
      isFrameworkContext: isFastifyContext,
      setupVerifyOnly(options) {
        const hook = verifyKallimaWebhook(options as KallimaFastifyVerifyOptions);
        return serve(factory, (app) => {
          app.all(ROUTE, { preParsing: hook }, async (request) => ({
            verified: request.kallimaEvent?.id,
          }));
        });
      },
    },
  });
}

it("re-exports the core's whole surface, so that apps install and import one package", async () => {
  expectExportParity(await import("./index.js"), await import("@kallima/webhooks"));
  const testing = await import("@kallima/webhooks/testing");
  const ours: Record<string, unknown> = await import("./testing.js");
  expect(
    Object.keys(testing).filter((key) => ours[key] !== testing[key as keyof typeof testing]),
  ).toEqual([]);
});
