/**
 * One benchmark server, run as its own process so that the load generator and the server do
 * not share a core: `tsx src/http/server.ts <framework> <floor|adapter>`. Prints
 * `READY <port>` once listening; `GET /__stats` answers `{ handled }`.
 */
import { KALLIMA_SECRET } from "../payload.js";
import type { Mode, ServerContext } from "./common.js";

type Start = (
  mode: Mode,
  ctx: ServerContext,
  stats: () => unknown,
) => Promise<{ port: number; close: () => Promise<void> }>;

const starters: Record<string, () => Promise<Start>> = {
  express: async () => (await import("./express.js")).startExpress,
  hono: async () => (await import("./hono.js")).startHono,
  fastify: async () => (await import("./fastify.js")).startFastify,
  koa: async () => (await import("./koa.js")).startKoa,
  h3: async () => (await import("./h3.js")).startH3,
  "h3-v2": async () => (await import("./h3.js")).startH3v2,
  lambda: async () => (await import("./lambda.js")).startLambda,
  "nest-express": async () => {
    const { startNest } = await import("./nest.js");
    return (mode, ctx, stats) => startNest("express", mode, ctx, stats);
  },
  "nest-fastify": async () => {
    const { startNest } = await import("./nest.js");
    return (mode, ctx, stats) => startNest("fastify", mode, ctx, stats);
  },
};

const [framework = "", mode = ""] = process.argv.slice(2);
const load = starters[framework];
if (!load || (mode !== "floor" && mode !== "adapter")) {
  console.error(`usage: server.ts <${Object.keys(starters).join("|")}> <floor|adapter>`);
  process.exit(2);
}
let handled = 0;
const ctx: ServerContext = {
  secret: process.env.KALLIMA_WEBHOOK_SECRET ?? KALLIMA_SECRET,
  count: () => {
    handled += 1;
  },
};
const start = await load();
const server = await start(mode, ctx, () => ({ handled }));
const stop = () => {
  void server.close().finally(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
console.log(`READY ${server.port}`);
