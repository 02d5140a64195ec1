import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { httpApiBridge } from "./bridge.js";
import { handler } from "./handler.js";

const DEFAULT_PORT = 3108;
const port = process.env.PORT === undefined ? DEFAULT_PORT : Number(process.env.PORT);
const host = process.env.HOST ?? "127.0.0.1";

// The function behind a local stand-in for API Gateway: see bridge.ts.
const server = createServer(
  { requestTimeout: 10_000, headersTimeout: 5_000 },
  httpApiBridge(handler),
);
server.listen(port, host, () => {
  const { port: actual } = server.address() as AddressInfo;
  console.log(`listening on http://${host}:${actual}`);
});
server.on("error", (error) => {
  console.error(error.message);
  process.exit(1);
});

// Let a demo runner stop the bridge cleanly.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
