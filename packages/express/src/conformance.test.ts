import type { WebhookHandlerOptions } from "@kallima/webhooks";
import { fromFetchResponse, runConformanceSuite } from "@kallima/webhooks-conformance";
import { kallimaWebhooks } from "./index.js";
import { close, frameworks, listen } from "./test-support.js";

for (const [name, express] of frameworks) {
  runConformanceSuite(name, {
    // Mounted with app.post(): other methods are Express's (no route: 404), never a handler run.
    otherMethods: "passes-on",
    async setup(options) {
      const app = express();
      app.post("/kallima-events", kallimaWebhooks(options as WebhookHandlerOptions));
      const { server, url } = await listen(app);
      return {
        send: async ({ method = "POST", headers, body }) =>
          fromFetchResponse(await fetch(`${url}/kallima-events`, { method, headers, body })),
        close: () => close(server),
      };
    },
  });
}
