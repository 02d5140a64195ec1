import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createWebhookHandler, type WebhookHandlerOptions } from "@kallima/webhooks";
import { handleNodeRequest } from "@kallima/webhooks/node";
import type { ConformanceApp } from "@kallima/webhooks-conformance";

/** Core's node:http handler on 127.0.0.1, with a `send` that delivers over real HTTP. */
export async function startNodeApp(
  options: WebhookHandlerOptions,
): Promise<Required<ConformanceApp>> {
  const handler = createWebhookHandler(options);
  const server = createServer((req, res) => void handleNodeRequest(handler, req, res));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    async send({ headers, body, method = "POST" }) {
      const response = await fetch(`http://127.0.0.1:${port}/kallima-events`, {
        method,
        headers,
        body,
      });
      return {
        status: response.status,
        headers: Object.fromEntries(response.headers),
        body: await response.text(),
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
