import { runNodeRobustnessSuite } from "@kallima/webhooks-conformance/node-robustness";
import { kallimaWebhooks } from "./index.js";
import { buildApp, listen, type Major, PATH } from "./test-support.js";

for (const major of ["h3 1.x", "h3 2"] as Major[]) {
  runNodeRobustnessSuite(`${major} on its Node listener`, {
    bodyReader: "core",
    // Both read the signature headers from Node's raw header lines.
    repeatedHeaders: "refused",
    after413: "closed",
    async start({ requestTimeoutMs, ...options }) {
      const app = buildApp(major, { route: kallimaWebhooks({ logger: false, ...options }) });
      return { ...(await listen(app.listener, requestTimeoutMs)), path: PATH };
    },
  });
}
