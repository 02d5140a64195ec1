import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { kallimaWebhooks } from "@kallima/webhooks-express";
import express from "express";
import { floorRoute, type Mode, type ServerContext, STATS_PATH, WEBHOOK_PATH } from "./common.js";

/** Express 5: the adapter's route, or a hand-written `express.raw()` route with the floor check. */
export async function startExpress(mode: Mode, ctx: ServerContext, stats: () => unknown) {
  const app = express();
  app.disable("x-powered-by");
  app.get(STATS_PATH, (_req, res) => {
    res.json(stats());
  });
  if (mode === "floor") {
    app.post(WEBHOOK_PATH, express.raw({ type: () => true, limit: "1mb" }), (req, res) => {
      const answer = floorRoute(ctx, req.headers, req.body as Buffer);
      res.status(answer.status).type("application/json").send(answer.body);
    });
  } else {
    app.post(
      WEBHOOK_PATH,
      kallimaWebhooks({ secret: ctx.secret, on: { "job.completed": () => ctx.count() } }),
    );
  }
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, "127.0.0.1", () => resolve(listening));
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
