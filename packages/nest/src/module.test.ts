import type { IncomingHttpHeaders } from "node:http";
import {
  createEvent,
  jobCompletedEvent,
  jobFailedEvent,
  signPayload,
} from "@kallima/webhooks/testing";
import {
  type CallHandler,
  type ExecutionContext,
  Inject,
  Injectable,
  type LoggerService,
  Module,
  type NestInterceptor,
  Scope,
  VersioningType,
} from "@nestjs/common";
import { ConfigModule, ConfigService } from "@nestjs/config";
import { APP_INTERCEPTOR, REQUEST } from "@nestjs/core";
import { map, type Observable } from "rxjs";
import { afterEach, describe, expect, it } from "vitest";
import {
  createWebhookHandler,
  type KallimaEvent,
  KallimaWebhooksModule,
  type NestWebhookContext,
  OnKallimaEvent,
  type VerifiedKallimaEvent,
} from "./index.js";
import { deliver, PLATFORMS, type RunningApp, startApp } from "./test-support/app.js";

const SECRET = "whsec_nestModuleTestSecret0123456789abcdef";
const OTHER_SECRET = "whsec_nestModuleOtherSecret0123456789abcd";

const open: RunningApp[] = [];
afterEach(async () => {
  for (const app of open.splice(0)) await app.close();
});
async function start(...args: Parameters<typeof startApp>): Promise<RunningApp> {
  const app = await startApp(...args);
  open.push(app);
  return app;
}

/** What the handlers below saw, in order: "<who>:<type>:<event id>". */
let ran: string[] = [];
afterEach(() => {
  ran = [];
});

@Injectable()
class JobsService {
  @OnKallimaEvent("job.completed")
  onCompleted(event: KallimaEvent<"job.completed">) {
    ran.push(`jobs:${event.type}:${event.id}`);
  }

  @OnKallimaEvent("job.completed", "job.failed")
  audit(event: KallimaEvent<"job.completed" | "job.failed">) {
    ran.push(`audit:${event.type}:${event.id}`);
  }
}

@Injectable()
class NotificationsService {
  @OnKallimaEvent("job.failed")
  @OnKallimaEvent("webhook.test")
  async notify(event: VerifiedKallimaEvent) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    ran.push(`notify:${event.type}:${event.id}`);
  }

  notDecorated() {
    ran.push("never");
  }
}

describe.each(PLATFORMS)("KallimaWebhooksModule on %s", (platform) => {
  const route = (app: RunningApp, path = "/kallima-events") => `${app.url}${path}`;

  it("runs every @OnKallimaEvent handler for the type, across providers, in order", async () => {
    const app = await start(platform, {
      imports: [KallimaWebhooksModule.forRoot({ secret: SECRET })],
      providers: [JobsService, NotificationsService],
    });
    const completed = jobCompletedEvent();
    const failed = jobFailedEvent();
    expect(await deliver(route(app), completed, { secret: SECRET })).toMatchObject({
      status: 200,
      body: { received: true, outcome: "handled" },
    });
    expect((await deliver(route(app), failed, { secret: SECRET })).status).toBe(200);
    expect(ran).toEqual([
      `jobs:job.completed:${completed.id}`,
      `audit:job.completed:${completed.id}`,
      `audit:job.failed:${failed.id}`,
      `notify:job.failed:${failed.id}`,
    ]);
  });

  it("acknowledges unknown types and repeats without running handlers again", async () => {
    const app = await start(platform, {
      imports: [KallimaWebhooksModule.forRoot({ secret: SECRET })],
      providers: [JobsService],
    });
    const unknown = createEvent("humanization.completed", { id: "hum_1" });
    expect((await deliver(route(app), unknown, { secret: SECRET })).body).toEqual({
      received: true,
      outcome: "unhandled",
    });
    const completed = jobCompletedEvent();
    await deliver(route(app), completed, { secret: SECRET });
    const again = await deliver(route(app), completed, { secret: SECRET });
    expect(again.body).toEqual({ received: true, outcome: "duplicate" });
    expect(again.headers.get("cache-control")).toBe("no-store");
    expect(ran).toEqual([
      `jobs:job.completed:${completed.id}`,
      `audit:job.completed:${completed.id}`,
    ]);
  });

  it("rejects a tampered delivery with the core's 401 body and runs nothing", async () => {
    const app = await start(platform, {
      imports: [KallimaWebhooksModule.forRoot({ secret: SECRET })],
      providers: [JobsService],
    });
    const response = await deliver(route(app), jobCompletedEvent(), {
      secret: SECRET,
      tamper: (body) => body.replace('"status":"completed"', '"status":"canceled"'),
    });
    expect(response.status).toBe(401);
    expect(response.body).toEqual({
      error: { code: "invalid_signature", message: expect.any(String) },
    });
    expect(ran).toEqual([]);
  });

  it("forRootAsync takes the secret from ConfigService", async () => {
    const app = await start(platform, {
      imports: [
        KallimaWebhooksModule.forRootAsync({
          imports: [
            ConfigModule.forRoot({
              ignoreEnvFile: true,
              load: [() => ({ KALLIMA_WEBHOOK_SECRET: SECRET })],
            }),
          ],
          inject: [ConfigService],
          useFactory: async (config: ConfigService) => ({
            secret: config.getOrThrow<string>("KALLIMA_WEBHOOK_SECRET"),
          }),
        }),
      ],
      providers: [JobsService],
    });
    const event = jobCompletedEvent();
    expect((await deliver(route(app), event, { secret: SECRET })).status).toBe(200);
    expect((await deliver(route(app), jobCompletedEvent(), { secret: OTHER_SECRET })).status).toBe(
      401,
    );
    expect(ran).toContain(`jobs:job.completed:${event.id}`);
  });

  it("forRootAsync accepts a ready handler, and decorated handlers run after its own", async () => {
    const app = await start(platform, {
      imports: [
        KallimaWebhooksModule.forRootAsync({
          useFactory: () =>
            createWebhookHandler({ secret: SECRET }).on("job.completed", (event) => {
              ran.push(`own:${event.type}:${event.id}`);
            }),
          path: "hooks/kallima",
        }),
      ],
      providers: [JobsService],
    });
    const event = jobCompletedEvent();
    expect((await deliver(route(app, "/hooks/kallima"), event, { secret: SECRET })).status).toBe(
      200,
    );
    expect(ran[0]).toBe(`own:job.completed:${event.id}`);
    expect(ran).toHaveLength(3);
    expect((await deliver(route(app), jobCompletedEvent(), { secret: SECRET })).status).toBe(404);
  });

  it("answers the core's body even under a global response-wrapping interceptor", async () => {
    @Injectable()
    class Wrap implements NestInterceptor {
      intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
        return next.handle().pipe(map((data: unknown) => ({ wrapped: data })));
      }
    }
    const app = await start(platform, {
      imports: [KallimaWebhooksModule.forRoot({ secret: SECRET })],
      providers: [JobsService, { provide: APP_INTERCEPTOR, useClass: Wrap }],
    });
    expect((await deliver(route(app), jobCompletedEvent(), { secret: SECRET })).body).toEqual({
      received: true,
      outcome: "handled",
    });
  });

  it("fails the app's start-up on a bad secret", async () => {
    await expect(
      start(platform, { imports: [KallimaWebhooksModule.forRoot({ secret: "not-a-secret" })] }),
    ).rejects.toMatchObject({ code: "invalid_secret" });
  });

  it("mounts no route with path: false", async () => {
    const app = await start(platform, {
      imports: [KallimaWebhooksModule.forRoot({ secret: SECRET, path: false })],
      providers: [JobsService],
    });
    expect((await deliver(route(app), jobCompletedEvent(), { secret: SECRET })).status).toBe(404);
    expect(ran).toEqual([]);
  });

  it("keeps the webhook route unversioned under URI versioning", async () => {
    const app = await start(
      platform,
      {
        imports: [KallimaWebhooksModule.forRoot({ secret: SECRET })],
        providers: [JobsService],
      },
      { rawBody: true },
      (nest) => nest.enableVersioning({ type: VersioningType.URI, defaultVersion: "1" }),
    );
    expect((await deliver(route(app), jobCompletedEvent(), { secret: SECRET })).status).toBe(200);
  });

  it("answers 500 raw_body_unavailable, naming the fix, when the app lacks rawBody: true", async () => {
    const app = await start(
      platform,
      { imports: [KallimaWebhooksModule.forRoot({ secret: SECRET })], providers: [JobsService] },
      {},
    );
    const response = await deliver(route(app), jobCompletedEvent(), { secret: SECRET });
    expect(response.status).toBe(500);
    const error = response.body.error as { code: string; message: string };
    expect(error.code).toBe("raw_body_unavailable");
    expect(error.message).toContain("rawBody: true");
    expect(ran).toEqual([]);
  });

  it("reads the body stream itself when Nest's body parser is off (Express)", async () => {
    if (platform !== "express") return;
    const app = await start(
      platform,
      { imports: [KallimaWebhooksModule.forRoot({ secret: SECRET })], providers: [JobsService] },
      { bodyParser: false },
    );
    expect((await deliver(route(app), jobCompletedEvent(), { secret: SECRET })).status).toBe(200);
    expect(ran).toHaveLength(2);
  });

  it("logs failed deliveries with Nest's Logger by default, and logger: false silences them", async () => {
    const logged: string[] = [];
    const logger: LoggerService = {
      log: () => {},
      warn: (message: unknown) => void logged.push(`warn ${String(message)}`),
      error: (message: unknown, stack?: unknown) =>
        void logged.push(`error ${String(message)}${typeof stack === "string" ? " +stack" : ""}`),
    };
    @Injectable()
    class Failing {
      @OnKallimaEvent("job.failed")
      fail() {
        throw new Error("database is down");
      }
    }
    for (const option of [{}, { logger: false as const }]) {
      const app = await start(
        platform,
        {
          imports: [KallimaWebhooksModule.forRoot({ secret: SECRET, ...option })],
          providers: [Failing],
        },
        { rawBody: true, logger },
      );
      const failed = jobFailedEvent();
      expect((await deliver(route(app), failed, { secret: SECRET })).status).toBe(500);
      await deliver(route(app), jobCompletedEvent(), { secret: OTHER_SECRET });
      // The core's lines, through the app's logger; the handler's stack beside the error.
      expect(logged.splice(0)).toEqual(
        "logger" in option
          ? []
          : [
              `error [kallima-webhooks] 500 handler_failed (job.failed ${failed.id}): The handler for "job.failed" failed. +stack`,
              expect.stringMatching(/^warn \[kallima-webhooks\] 401 invalid_signature: /),
            ],
      );
    }
  });

  it("answers every method but POST with the core's 405, running nothing", async () => {
    const app = await start(platform, {
      imports: [KallimaWebhooksModule.forRoot({ secret: SECRET, logger: false })],
      providers: [JobsService],
    });
    for (const method of ["GET", "PUT", "PATCH", "DELETE"]) {
      const response = await fetch(route(app), { method });
      expect([response.status, response.headers.get("allow")]).toEqual([405, "POST"]);
      expect(await response.json()).toMatchObject({ error: { code: "method_not_allowed" } });
    }
    expect(ran).toEqual([]);
  });

  it("gives handlers and the secret function { request, executionContext }", async () => {
    const seen: string[] = [];
    const record = (who: string, context: NestWebhookContext) => {
      const { request, executionContext } = context;
      const same = executionContext?.switchToHttp().getRequest() === request;
      seen.push(`${who}:${request.method}:${String(request.headers["x-trace"])}:${same}`);
    };
    @Injectable()
    class Traced {
      @OnKallimaEvent("job.completed")
      onCompleted(_event: KallimaEvent<"job.completed">, context: NestWebhookContext) {
        record("decorated", context);
      }
    }
    const app = await start(platform, {
      imports: [
        KallimaWebhooksModule.forRoot({
          secret: (context) => {
            record("secret", context);
            return SECRET;
          },
          on: { "job.completed": (_event, context) => record("on", context) },
          logger: false,
        }),
      ],
      providers: [Traced],
    });
    const signed = await signPayload({ secret: SECRET, payload: jobCompletedEvent() });
    const response = await fetch(route(app), {
      method: "POST",
      headers: { ...signed.headers, "x-trace": "t1" },
      body: signed.body,
    });
    expect(response.status).toBe(200);
    expect(seen).toEqual(["secret:POST:t1:true", "on:POST:t1:true", "decorated:POST:t1:true"]);
  });
});

describe.each(PLATFORMS)("request-scoped providers on %s", (platform) => {
  @Injectable({ scope: Scope.REQUEST })
  class PerDelivery {
    static created = 0;
    readonly number = ++PerDelivery.created;

    constructor(@Inject(REQUEST) private readonly request: { headers: IncomingHttpHeaders }) {}

    @OnKallimaEvent("job.completed")
    onCompleted(event: KallimaEvent<"job.completed">) {
      const signed = typeof this.request.headers["x-kallima-signature"] === "string";
      ran.push(`scoped#${this.number}:${event.id}:${signed ? "request" : "no request"}`);
    }
  }

  /** A request-scoped provider with no handlers, which discovery must leave alone. */
  @Injectable({ scope: Scope.REQUEST })
  class Unrelated {
    constructor(@Inject(REQUEST) readonly request: unknown) {}
  }

  it("gets a fresh instance per delivery, with REQUEST set, next to singletons", async () => {
    PerDelivery.created = 0;
    const app = await start(platform, {
      imports: [KallimaWebhooksModule.forRoot({ secret: SECRET })],
      providers: [PerDelivery, Unrelated, JobsService],
    });
    const first = jobCompletedEvent();
    const second = jobCompletedEvent();
    expect((await deliver(`${app.url}/kallima-events`, first, { secret: SECRET })).status).toBe(
      200,
    );
    expect((await deliver(`${app.url}/kallima-events`, second, { secret: SECRET })).status).toBe(
      200,
    );
    expect(ran.filter((entry) => entry.startsWith("scoped"))).toEqual([
      `scoped#1:${first.id}:request`,
      `scoped#2:${second.id}:request`,
    ]);
    expect(ran.filter((entry) => entry.startsWith("jobs"))).toHaveLength(2);
  });
});

describe("discovery", () => {
  @Injectable()
  class Shared {
    @OnKallimaEvent("job.completed")
    onCompleted(event: KallimaEvent<"job.completed">) {
      ran.push(`shared:${event.id}`);
    }
  }
  @Module({ providers: [Shared], exports: [Shared] })
  class SharedModule {}
  @Module({ imports: [SharedModule] })
  class ConsumerModule {}

  it("registers a provider exported to other modules once", async () => {
    const app = await start("express", {
      imports: [KallimaWebhooksModule.forRoot({ secret: SECRET }), SharedModule, ConsumerModule],
    });
    const event = jobCompletedEvent();
    await deliver(`${app.url}/kallima-events`, event, { secret: SECRET });
    expect(ran).toEqual([`shared:${event.id}`]);
  });
});
