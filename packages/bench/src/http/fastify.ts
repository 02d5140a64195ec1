import type { AddressInfo } from "node:net";
import { kallimaWebhooks } from "@kallima/webhooks-fastify";
import Fastify from "fastify";
import { floorRoute, type Mode, type ServerContext, STATS_PATH, WEBHOOK_PATH } from "./common.js";

/**
 * Fastify 5: the adapter's plugin, or a hand-written route in a plugin of its own whose parser
 * keeps every body as a Buffer (`parseAs: "buffer"`, 1 MiB), with the floor check.
 */
export async function startFastify(mode: Mode, ctx: ServerContext, stats: () => unknown) {
  const app = Fastify({ logger: false });
  app.get(STATS_PATH, async () => stats());
  if (mode === "floor") {
    await app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser(
        "*",
        { parseAs: "buffer", bodyLimit: 1024 * 1024 },
        (_request, body, done) => done(null, body),
      );
      scope.post(WEBHOOK_PATH, async (request, reply) => {
        const answer = floorRoute(ctx, request.headers, request.body as Buffer);
        return reply.code(answer.status).type("application/json").send(answer.body);
      });
    });
  } else {
    await app.register(kallimaWebhooks, {
      path: WEBHOOK_PATH,
      secret: ctx.secret,
      on: { "job.completed": () => ctx.count() },
    });
  }
  await app.listen({ port: 0, host: "127.0.0.1" });
  return {
    port: (app.server.address() as AddressInfo).port,
    close: () => app.close(),
  };
}
