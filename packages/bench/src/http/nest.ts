import "reflect-metadata";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { KallimaWebhooksModule, OnKallimaEvent } from "@kallima/webhooks-nest";
import {
  Controller,
  Get,
  HttpCode,
  Injectable,
  Module,
  Post,
  type RawBodyRequest,
  Req,
  UnauthorizedException,
} from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import { FastifyAdapter } from "@nestjs/platform-fastify";
import { floorRoute, type Mode, type ServerContext } from "./common.js";

type NestRequest = RawBodyRequest<{ headers: Record<string, string | string[] | undefined> }>;

/**
 * NestJS on its Express or Fastify platform, created with `rawBody: true` as the adapter needs:
 * the adapter's module route, or a hand-written controller with the floor check.
 */
export async function startNest(
  platform: "express" | "fastify",
  mode: Mode,
  ctx: ServerContext,
  stats: () => unknown,
) {
  @Controller()
  class StatsController {
    @Get("__stats")
    stats() {
      return stats();
    }
  }

  @Controller()
  class FloorController {
    @Post("webhook")
    @HttpCode(200)
    receive(@Req() req: NestRequest) {
      const answer = floorRoute(ctx, req.headers, req.rawBody ?? Buffer.alloc(0));
      if (answer.status !== 200) throw new UnauthorizedException();
      return { received: true };
    }
  }

  @Injectable()
  class BenchHandlers {
    @OnKallimaEvent("job.completed")
    onCompleted() {
      ctx.count();
    }
  }

  @Module(
    mode === "floor"
      ? { controllers: [StatsController, FloorController] }
      : {
          imports: [KallimaWebhooksModule.forRoot({ secret: ctx.secret, path: "webhook" })],
          controllers: [StatsController],
          providers: [BenchHandlers],
        },
  )
  class AppModule {}

  const options = { rawBody: true, logger: false as const };
  const app =
    platform === "express"
      ? await NestFactory.create(AppModule, options)
      : await NestFactory.create(AppModule, new FastifyAdapter(), options);
  await app.listen(0, "127.0.0.1");
  const server = app.getHttpServer() as Server;
  return {
    port: (server.address() as AddressInfo).port,
    close: () => app.close(),
  };
}
