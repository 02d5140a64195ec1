import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createApp } from "./app.js";

const DEMO_SECRET = "whsec_kallimaDemoSecret_notForProduction_01";
const DEFAULT_PORT = 3106;

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

// Node's defaults give a slow client 300 s to send its request (60 s for the headers). A Kallima
// delivery is a small body sent at once and Kallima stops waiting after 30 s, so anything slower
// than this only holds a connection (see the adapter's README). These bound receiving the
// request, not the handler's run.
const server = createServer(
  { requestTimeout: 10_000, headersTimeout: 5_000 },
  createApp({ secret }).callback(),
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
