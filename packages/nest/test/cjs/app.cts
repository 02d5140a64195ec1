import { createHmac } from "node:crypto";
import {
  KallimaEvent as Event,
  type KallimaEvent,
  KallimaWebhookGuard,
  kallimaWebhooks,
  type NestWebhookContext,
  OnKallimaEvent,
  type VerifiedKallimaEvent,
  verifyKallimaWebhook,
} from "@kallima/webhooks-nest";
import { Controller, Injectable, Module, Post, UseGuards } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import { FastifyAdapter } from "@nestjs/platform-fastify";

const SECRET = "whsec_nestCommonJsFixtureSecret0123456789ab";

@Injectable()
class Store {
  readonly seen: string[] = [];
}

@Injectable()
class JobsService {
  // No @Inject(): resolved from the design-type metadata tsc emits.
  constructor(private readonly store: Store) {}

  @OnKallimaEvent("job.completed")
  onCompleted(event: KallimaEvent<"job.completed">, { request }: NestWebhookContext) {
    this.store.seen.push(`handler:${event.data.id}:${request.method}`);
  }
}

@Controller("guarded")
class GuardedController {
  constructor(private readonly store: Store) {}

  @Post()
  @UseGuards(KallimaWebhookGuard)
  receive(@Event() event: VerifiedKallimaEvent) {
    this.store.seen.push(`guarded:${event.id}`);
    return { received: true };
  }

  @Post("standalone")
  @UseGuards(verifyKallimaWebhook({ secret: SECRET, logger: false }))
  standalone(@Event() event: VerifiedKallimaEvent) {
    this.store.seen.push(`standalone:${event.id}`);
    return { received: true };
  }
}

@Module({
  imports: [kallimaWebhooks({ secret: SECRET, logger: false })],
  controllers: [GuardedController],
  providers: [Store, JobsService],
})
class AppModule {}

function sign(body: string, secret = SECRET) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
  return {
    "content-type": "application/json",
    "x-kallima-signature": signature,
    "x-kallima-timestamp": timestamp,
  };
}

async function run(platform: "express" | "fastify") {
  const app =
    platform === "express"
      ? await NestFactory.create(AppModule, { rawBody: true, logger: false })
      : await NestFactory.create(AppModule, new FastifyAdapter(), { rawBody: true, logger: false });
  await app.listen(0, "127.0.0.1");
  const url = (await app.getUrl()).replace("[::1]", "127.0.0.1");
  const body = JSON.stringify({
    id: `evt_cjs_${platform}`,
    type: "job.completed",
    api_version: "2026-04-23",
    created_at: new Date().toISOString(),
    data: { id: `job_${platform}`, status: "completed" },
  });
  const statuses: number[] = [];
  for (const [path, headers] of [
    ["/kallima-events", sign(body)],
    ["/kallima-events", sign(body, "whsec_someoneElsesSecret0123456789abcdefgh")],
    ["/guarded", sign(body)],
    ["/guarded/standalone", sign(body)],
  ] as const) {
    statuses.push((await fetch(`${url}${path}`, { method: "POST", headers, body })).status);
  }
  const seen = app.get(Store).seen;
  await app.close();
  return { statuses, seen };
}

async function main() {
  const results = { express: await run("express"), fastify: await run("fastify") };
  process.stdout.write(
    JSON.stringify({ format: typeof module === "object" ? "cjs" : "esm", results }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
