import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { kallimaWebhooks } from "@kallima/webhooks-h3";
import * as h3 from "h3";
import * as h3v2 from "h3-v2";
import { toNodeHandler } from "h3-v2/node";
import { floorRoute, type Mode, type ServerContext, STATS_PATH, WEBHOOK_PATH } from "./common.js";

function listen(listener: Parameters<typeof createServer>[1]) {
  const server = createServer(listener);
  return new Promise<{ port: number; close: () => Promise<void> }>((resolve) => {
    server.listen(0, "127.0.0.1", () =>
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((done) => server.close(() => done())),
      }),
    );
  });
}

/** h3 1.x (Nuxt 3/4, Nitro 2) on its Node listener: the adapter, or a hand-written route. */
export async function startH3(mode: Mode, ctx: ServerContext, stats: () => unknown) {
  const router = h3.createRouter().get(
    STATS_PATH,
    h3.defineEventHandler(() => stats()),
  );
  if (mode === "floor") {
    router.post(
      WEBHOOK_PATH,
      h3.defineEventHandler(async (event) => {
        const body = (await h3.readRawBody(event, false)) ?? Buffer.alloc(0);
        const answer = floorRoute(ctx, event.node.req.headers, body);
        h3.setResponseStatus(event, answer.status);
        h3.setResponseHeader(event, "content-type", "application/json");
        return answer.body;
      }),
    );
  } else {
    router.post(
      WEBHOOK_PATH,
      kallimaWebhooks({ secret: ctx.secret, on: { "job.completed": () => ctx.count() } }),
    );
  }
  return listen(h3.toNodeListener(h3.createApp().use(router)));
}

/** h3 2 (Nitro 3) on its Node listener (`toNodeHandler`): the adapter, or a hand-written route. */
export async function startH3v2(mode: Mode, ctx: ServerContext, stats: () => unknown) {
  const app = new h3v2.H3();
  app.get(STATS_PATH, () => stats());
  if (mode === "floor") {
    app.post(WEBHOOK_PATH, async (event) => {
      const body = new Uint8Array(await event.req.arrayBuffer());
      const answer = floorRoute(ctx, event.req.headers, body);
      event.res.status = answer.status;
      event.res.headers.set("content-type", "application/json");
      return answer.body;
    });
  } else {
    app.post(
      WEBHOOK_PATH,
      kallimaWebhooks({
        secret: ctx.secret,
        on: { "job.completed": () => ctx.count() },
      }) as unknown as h3v2.EventHandler,
    );
  }
  return listen(toNodeHandler(app));
}
