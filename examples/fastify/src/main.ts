import { createApp } from "./app.js";

const DEMO_SECRET = "whsec_kallimaDemoSecret_notForProduction_01";
const DEFAULT_PORT = 3105;

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
// than this only holds a connection. These bound receiving the request, not the handler's run.
const app = await createApp({ secret }, { requestTimeout: 10_000 });
app.server.headersTimeout = 5_000;

try {
  await app.listen({ port, host });
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
const address = app.server.address();
const actual = typeof address === "object" && address !== null ? address.port : port;
console.log(`listening on http://${host}:${actual}`);

// Let a demo runner stop the app cleanly.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    app.server.closeAllConnections();
    void app.close().then(() => process.exit(0));
  });
}
