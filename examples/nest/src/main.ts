import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { NestFactory } from "@nestjs/core";
import { AppModule } from "./app.module";

const DEFAULT_PORT = 3102;

async function bootstrap(): Promise<void> {
  // rawBody: true keeps the exact bytes Kallima signed next to the parsed JSON.
  const app = await NestFactory.create(AppModule, { rawBody: true, logger: ["error", "warn"] });
  // Node's defaults give a slow client 300 s to send its request (60 s for the headers). A
  // Kallima delivery is a small body sent at once and Kallima stops waiting after 30 s, so
  // anything slower only holds a connection (see the adapter's README). Set before listen();
  // they bound receiving the request, not the handlers' run.
  const server: Server = app.getHttpServer();
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  const port = process.env.PORT === undefined ? DEFAULT_PORT : Number(process.env.PORT);
  const host = process.env.HOST ?? "127.0.0.1";
  await app.listen(port, host);
  const { port: actual } = server.address() as AddressInfo;
  console.log(`listening on http://${host}:${actual}`);

  // Let a demo runner stop the app cleanly.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      app.close().then(
        () => process.exit(0),
        (error: unknown) => {
          console.error(error instanceof Error ? error.message : error);
          process.exit(1);
        },
      );
    });
  }
}

bootstrap().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
