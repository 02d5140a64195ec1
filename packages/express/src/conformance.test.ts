import type { Server } from "node:http";
import type { WebhookHandlerOptions } from "@kallima/webhooks";
import { runConformanceSuite } from "@kallima/webhooks-conformance";
import { kallimaWebhooks } from "./index.js";
import { close, frameworks, listen, postBytes } from "./test-support.js";

for (const [name, express] of frameworks) {
  runConformanceSuite(name, {
    async setup(options) {
      const app = express();
      app.post("/kallima-events", kallimaWebhooks(options as WebhookHandlerOptions));
      const { server }: { server: Server } = await listen(app);
      return {
        async send({ headers, body }) {
          const response = await postBytes(server, "/kallima-events", headers, body);
          return {
            status: response.status,
            headers: response.headers as Record<string, string | undefined>,
            body: response.text,
          };
        },
        close: () => close(server),
      };
    },
  });
}
