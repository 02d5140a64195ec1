import { Buffer } from "node:buffer";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { kallimaWebhooks } from "@kallima/webhooks-hono";
import { Hono } from "hono";
import { floorRoute, type Mode, type ServerContext, STATS_PATH, WEBHOOK_PATH } from "./common.js";

/** Hono on @hono/node-server: the adapter's middleware, or a hand-written route. */
export async function startHono(mode: Mode, ctx: ServerContext, stats: () => unknown) {
  const app = new Hono();
  app.get(STATS_PATH, (c) => c.json(stats() as object));
  if (mode === "floor") {
    app.post(WEBHOOK_PATH, async (c) => {
      const body = Buffer.from(await c.req.arrayBuffer());
      const answer = floorRoute(ctx, c.req.raw.headers, body);
      return c.body(answer.body, answer.status as 200 | 401, {
        "content-type": "application/json",
      });
    });
  } else {
    app.post(
      WEBHOOK_PATH,
      kallimaWebhooks({ secret: ctx.secret, on: { "job.completed": () => ctx.count() } }),
    );
  }
  let server: ReturnType<typeof serve> | undefined;
  const port = await new Promise<number>((resolve, reject) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) =>
      resolve(info.port),
    );
    server.once("error", reject);
  });
  return {
    port,
    close: () => new Promise<void>((resolve) => server!.close(() => resolve())),
  };
}
