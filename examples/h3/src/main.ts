import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { toNodeListener } from "h3";
import { createExampleApp } from "./app.js";

const DEMO_SECRET = "whsec_kallimaDemoSecret_notForProduction_01";
const DEFAULT_PORT = 3107;

// Several secrets, comma-separated, during a rotation ("whsec_new,whsec_old"): either verifies.
let secret = (process.env.KALLIMA_WEBHOOK_SECRET ?? "")
  .split(",")
  .map((value) => value.trim())
  .filter((value) => value !== "");
if (secret.length === 0) {
  console.warn(
    `KALLIMA_WEBHOOK_SECRET is not set: using the demo secret ${DEMO_SECRET}. Never use it in production.`,
  );
  secret = [DEMO_SECRET];
}
const port = process.env.PORT === undefined ? DEFAULT_PORT : Number(process.env.PORT);
const host = process.env.HOST ?? "127.0.0.1";

// h3's Node listener on node:http, with request timeouts well below Node's defaults: a Kallima
// delivery is a small body sent at once and Kallima stops waiting after 30 s.
const server = createServer(
  { requestTimeout: 10_000, headersTimeout: 5_000 },
  toNodeListener(createExampleApp({ secret })),
);
server.listen(port, host, () => {
  const { port: actual } = server.address() as AddressInfo;
  console.log(`listening on http://${host}:${actual}`);
});
server.on("error", (error) => {
  console.error(error.message);
  process.exit(1);
});

// Let a demo runner stop the app cleanly.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
