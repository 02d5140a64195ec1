import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { kallimaWebhooks } from "@kallima/webhooks-koa";
import Router from "@koa/router";
import Koa from "koa";
import { floorRoute, type Mode, type ServerContext, STATS_PATH, WEBHOOK_PATH } from "./common.js";

const LIMIT_BYTES = 1024 * 1024;

/** Koa 3 with @koa/router: the adapter's middleware, or a hand-written route with the floor check. */
export async function startKoa(mode: Mode, ctx: ServerContext, stats: () => unknown) {
  const app = new Koa();
  const router = new Router();
  router.get(STATS_PATH, (koa) => {
    koa.body = stats();
  });
  if (mode === "floor") {
    router.post(WEBHOOK_PATH, async (koa) => {
      const chunks: Buffer[] = [];
      let total = 0;
      for await (const chunk of koa.req) {
        total += (chunk as Buffer).byteLength;
        if (total > LIMIT_BYTES) koa.throw(413);
        chunks.push(chunk as Buffer);
      }
      const answer = floorRoute(ctx, koa.headers, Buffer.concat(chunks, total));
      koa.status = answer.status;
      koa.type = "application/json";
      koa.body = answer.body;
    });
  } else {
    router.post(
      WEBHOOK_PATH,
      kallimaWebhooks({ secret: ctx.secret, on: { "job.completed": () => ctx.count() } }),
    );
  }
  app.use(router.routes());
  const server = createServer(app.callback()).listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
