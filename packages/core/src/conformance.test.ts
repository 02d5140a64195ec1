import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type ConformanceRequest,
  fromFetchResponse,
  runConformanceSuite,
} from "@kallima/webhooks-conformance";
import { createWebhookHandler, type WebhookHandlerOptions } from "./index.js";
import { handleNodeRequest } from "./node.js";

runConformanceSuite("core fetch()", {
  setup(options) {
    const handler = createWebhookHandler(options as WebhookHandlerOptions);
    return {
      send: async ({ headers, body, method = "POST" }: ConformanceRequest) =>
        fromFetchResponse(
          await handler.fetch(
            new Request("http://localhost/kallima-events", { method, headers, body }),
          ),
        ),
    };
  },
});

runConformanceSuite("core node:http (handleNodeRequest)", {
  async setup(options) {
    const handler = createWebhookHandler(options as WebhookHandlerOptions);
    // The documented pattern: the promise is not awaited, since it never rejects.
    const server: Server = createServer((req, res) => handleNodeRequest(handler, req, res));
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
  },
});
