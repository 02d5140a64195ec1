import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type ConformanceApp,
  type ConformanceRequest,
  fromFetchResponse,
  runConformanceSuite,
} from "@kallima/webhooks-conformance";
import { createVerifyOnlyHandler, type VerifyOnlyOptions } from "./adapter.js";
import { createWebhookHandler, type WebhookHandlerOptions } from "./index.js";
import { handleNodeRequest, nodeSignatureHeaders, readRawBody, writeResult } from "./node.js";

const URL_ = "http://localhost/kallima-events";

/** What the core's own entry points pass as the handler context in these tests. */
const isTagged = (context: unknown) =>
  typeof context === "object" && context !== null && "tag" in context;

async function listen(
  listener: (req: IncomingMessage, res: ServerResponse) => unknown,
): Promise<ConformanceApp> {
  const server: Server = createServer(listener);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    send: async ({ headers, body, method = "POST" }) =>
      fromFetchResponse(
        await fetch(`http://127.0.0.1:${port}/kallima-events`, { method, headers, body }),
      ),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

runConformanceSuite("core fetch()", {
  setup(options) {
    const handler = createWebhookHandler(options as WebhookHandlerOptions);
    return {
      send: async ({ headers, body, method = "POST" }: ConformanceRequest) =>
        fromFetchResponse(
          await handler.fetch(new Request(URL_, { method, headers, body }), { tag: "fetch" }),
        ),
    };
  },
  contract: {
    isFrameworkContext: isTagged,
    setupVerifyOnly(options) {
      const handler = createVerifyOnlyHandler(options as VerifyOnlyOptions);
      return {
        async send({ headers, body, method = "POST" }) {
          const request = new Request(URL_, { method, headers, body });
          const outcome = await handler.verify({
            method: request.method,
            headers: request.headers,
            rawBody: () => request.arrayBuffer(),
          });
          return outcome.ok
            ? { status: 200, headers: {}, body: JSON.stringify({ verified: outcome.event.id }) }
            : fromFetchResponse(new Response(outcome.result.body, outcome.result));
        },
      };
    },
  },
});

runConformanceSuite("core node:http (handleNodeRequest)", {
  setup(options) {
    const handler = createWebhookHandler(options as WebhookHandlerOptions);
    // The documented pattern: the promise is not awaited, since it never rejects.
    return listen((req, res) => handleNodeRequest(handler, req, res, { context: { tag: "node" } }));
  },
  contract: {
    isFrameworkContext: isTagged,
    setupVerifyOnly(options) {
      const handler = createVerifyOnlyHandler(options as VerifyOnlyOptions);
      return listen(async (req, res) => {
        const outcome = await handler.verify({
          method: req.method ?? "POST",
          headers: nodeSignatureHeaders(req),
          rawBody: (limit) => readRawBody(req, { maxBodyBytes: limit }),
        });
        if (!outcome.ok) return writeResult(res, outcome.result);
        res.end(JSON.stringify({ verified: outcome.event.id }));
      });
    },
  },
});
