import {
  type ConformanceApp,
  type ConformanceRequest,
  expectExportParity,
  fromFetchResponse,
  runConformanceSuite,
} from "@kallima/webhooks-conformance";
import type { Express } from "express";
import { expect, it } from "vitest";
import {
  type ExpressWebhookContext,
  type KallimaWebhooksOptions,
  kallimaWebhooks,
  type VerifyOnlyOptions,
  verifyKallimaWebhook,
} from "./index.js";
import { close, frameworks, listen } from "./test-support.js";

const ROUTE = "/kallima-events";

async function serve(app: Express): Promise<ConformanceApp> {
  const { server, url } = await listen(app);
  return {
    send: async ({ method = "POST", headers, body }: ConformanceRequest) =>
      fromFetchResponse(await fetch(`${url}${ROUTE}`, { method, headers, body })),
    close: () => close(server),
  };
}

/** `{ req, res }` of one Express request: its own request and response, as Express made them. */
function isExpressContext(context: unknown): boolean {
  const { req, res } = (context ?? {}) as Partial<ExpressWebhookContext>;
  return (
    req !== undefined &&
    res !== undefined &&
    req.res === res &&
    res.req === req &&
    typeof req.app === "function" &&
    typeof res.json === "function"
  );
}

for (const [name, express] of frameworks) {
  runConformanceSuite(name, {
    // app.all(): every method reaches the middleware, and the core answers all but POST with 405.
    async setup(options) {
      const app = express();
      app.all(ROUTE, kallimaWebhooks(options as KallimaWebhooksOptions));
      return serve(app);
    },
    contract: {
      isFrameworkContext: isExpressContext,
      async setupVerifyOnly(options) {
        const verifier = verifyKallimaWebhook(options as VerifyOnlyOptions<ExpressWebhookContext>);
        const app = express();
        app.all(ROUTE, verifier, (req, res) => {
          res.json({ verified: req.kallimaEvent?.id });
        });
        return serve(app);
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
