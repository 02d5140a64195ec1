// Run with `deno run --allow-net --allow-env --allow-read src/deno.ts` (or dist/deno.js).
import { createApp, secretOrDemo } from "./app.js";

declare const Deno: {
  env: { get(name: string): string | undefined };
  serve(
    options: { hostname: string; port: number; onListen(address: { port: number }): void },
    handler: (request: Request) => Response | Promise<Response>,
  ): unknown;
};

const hostname = Deno.env.get("HOST") ?? "127.0.0.1";
const port = Number(Deno.env.get("PORT") ?? 3104);
const app = createApp(secretOrDemo(Deno.env.get("KALLIMA_WEBHOOK_SECRET")));

Deno.serve(
  {
    hostname,
    port,
    onListen: (address) => console.log(`listening on http://${hostname}:${address.port}`),
  },
  app.fetch,
);
