import type { AddressInfo } from "node:net";
import { NestFactory } from "@nestjs/core";
import { AppModule } from "./app.module";

const DEFAULT_PORT = 3102;

async function bootstrap(): Promise<void> {
  // rawBody: true keeps the exact bytes Kallima signed next to the parsed JSON.
  const app = await NestFactory.create(AppModule, { rawBody: true, logger: ["error", "warn"] });
  const port = process.env.PORT === undefined ? DEFAULT_PORT : Number(process.env.PORT);
  const host = process.env.HOST ?? "127.0.0.1";
  await app.listen(port, host);
  const { port: actual } = app.getHttpServer().address() as AddressInfo;
  console.log(`listening on http://${host}:${actual}`);

  // Let a demo runner stop the app cleanly.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      void app.close().then(() => process.exit(0));
    });
  }
}

bootstrap().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
