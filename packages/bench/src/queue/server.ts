/**
 * One queue-mode benchmark server, in its own process: `tsx src/queue/server.ts
 * <express|hono> <inline|queue> <empty|slow>`. Inline runs the handler before answering; queue
 * stores the delivery in a fresh SQLite queue file (the embedded driver) and answers 202, with
 * no worker (the ack is what is measured). `slow` is a 2 s handler. Prints `READY <port>`;
 * `GET /__stats` answers `{ handled }`: handler runs inline, verified deliveries enqueued in
 * queue mode (repeats of a pool id included).
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { serve } from "@hono/node-server";
import type { WebhookQueue } from "@kallima/webhooks";
import { kallimaWebhooks as expressWebhooks } from "@kallima/webhooks-express";
import { kallimaWebhooks as honoWebhooks } from "@kallima/webhooks-hono";
import { sqliteQueue } from "@kallima/webhooks-sqlite";
import express from "express";
import { Hono } from "hono";
import { KALLIMA_SECRET } from "../payload.js";

const [framework = "", mode = "", handlerKind = ""] = process.argv.slice(2);
if (
  !["express", "hono"].includes(framework) ||
  !["inline", "queue"].includes(mode) ||
  !["empty", "slow"].includes(handlerKind)
) {
  console.error("usage: server.ts <express|hono> <inline|queue> <empty|slow>");
  process.exit(2);
}
let handled = 0;
const secret = process.env.KALLIMA_WEBHOOK_SECRET ?? KALLIMA_SECRET;
const dir = mkdtempSync(join(tmpdir(), "kallima-bench-queue-"));
let queue: WebhookQueue | undefined;
if (mode === "queue") {
  const sqlite = sqliteQueue({ path: join(dir, "queue.db") });
  queue = {
    ...sqlite,
    enqueue: (delivery) => {
      handled += 1;
      return sqlite.enqueue(delivery);
    },
  };
}
const handler = async () => {
  if (handlerKind === "slow") await sleep(2_000);
  handled += 1;
};
const options = queue
  ? { secret, queue, logger: false as const }
  : { secret, logger: false as const, on: { "job.completed": handler } };

let close: () => Promise<void>;
let port: number;
if (framework === "express") {
  const app = express();
  app.get("/__stats", (_req, res) => {
    res.json({ handled });
  });
  app.post("/webhook", expressWebhooks(options));
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, "127.0.0.1", () => resolve(listening));
  });
  port = (server.address() as AddressInfo).port;
  close = () => new Promise<void>((resolve) => server.close(() => resolve()));
} else {
  const app = new Hono();
  app.get("/__stats", (c) => c.json({ handled }));
  app.post("/webhook", honoWebhooks(options));
  let server: ReturnType<typeof serve> | undefined;
  port = await new Promise<number>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) =>
      resolve(info.port),
    );
  });
  close = () => new Promise<void>((resolve) => server!.close(() => resolve()));
}
const stop = () => {
  void close()
    .then(() => queue?.close())
    .finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
console.log(`READY ${port}`);
