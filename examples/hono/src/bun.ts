// Run with `bun src/bun.ts` (or dist/bun.js after `pnpm build`).
import { createApp, secretOrDemo } from "./app.js";

declare const Bun: {
  env: Record<string, string | undefined>;
  serve(options: {
    hostname: string;
    port: number;
    fetch: (request: Request) => Response | Promise<Response>;
  }): { port: number };
};

const hostname = Bun.env.HOST ?? "127.0.0.1";
const port = Number(Bun.env.PORT ?? 3104);
const app = createApp(secretOrDemo(Bun.env.KALLIMA_WEBHOOK_SECRET));

const server = Bun.serve({ hostname, port, fetch: app.fetch });
console.log(`listening on http://${hostname}:${server.port}`);
