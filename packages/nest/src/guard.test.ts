import { jobCompletedEvent, signPayload, webhookTestEvent } from "@kallima/webhooks/testing";
import {
  All,
  type ArgumentsHost,
  Catch,
  Controller,
  type ExceptionFilter,
  HttpCode,
  Inject,
  Injectable,
  Module,
  Post,
  Scope,
  UseFilters,
  UseGuards,
} from "@nestjs/common";
import { HttpAdapterHost } from "@nestjs/core";
import { RouteConfig } from "@nestjs/platform-fastify";
import request from "supertest";
import { afterEach, describe, expect, it } from "vitest";
import {
  isEventType,
  KALLIMA_FASTIFY_ROUTE_CONFIG,
  KallimaEvent,
  KallimaWebhookException,
  KallimaWebhookGuard,
  KallimaWebhooksModule,
  type VerifiedKallimaEvent,
  verifyKallimaWebhook,
} from "./index.js";
import { PLATFORMS, type RunningApp, startApp } from "./test-support/app.js";

const SECRET = "whsec_nestGuardTestSecret0123456789abcdefgh";

@Injectable({ scope: Scope.REQUEST })
class RequestCounter {
  static created = 0;
  readonly number = ++RequestCounter.created;
}

@Controller("billing")
class BillingController {
  constructor(@Inject(RequestCounter) private readonly counter: RequestCounter) {}

  @Post("kallima")
  @HttpCode(202)
  @UseGuards(KallimaWebhookGuard)
  receive(@KallimaEvent() event: VerifiedKallimaEvent) {
    const job = isEventType(event, "job.completed") ? event.data.id : null;
    return { accepted: event.id, type: event.type, job, request: this.counter.number };
  }

  @Post("unguarded")
  unguarded(@KallimaEvent() event: VerifiedKallimaEvent) {
    return { accepted: event.id };
  }
}

const open: RunningApp[] = [];
afterEach(async () => {
  for (const app of open.splice(0)) await app.close();
});

async function signed(payload: object, options: { timestamp?: number } = {}) {
  return signPayload({ secret: SECRET, payload, ...options });
}

describe.each(PLATFORMS)("KallimaWebhookGuard on %s", (platform) => {
  async function start(rawBody = true): Promise<RunningApp> {
    const app = await startApp(
      platform,
      {
        imports: [KallimaWebhooksModule.forRoot({ secret: SECRET, path: false })],
        controllers: [BillingController],
        providers: [RequestCounter],
      },
      { rawBody },
    );
    open.push(app);
    return app;
  }

  it("hands the verified, typed event to the controller method", async () => {
    const app = await start();
    const event = jobCompletedEvent({ data: { id: "job_guarded" } });
    const delivery = await signed(event);
    const response = await request(app.url)
      .post("/billing/kallima")
      .set(delivery.headers)
      .send(String(delivery.body));
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({
      accepted: event.id,
      type: "job.completed",
      job: "job_guarded",
    });
  });

  it("works in a request-scoped controller: one instance per request", async () => {
    const app = await start();
    const numbers: number[] = [];
    for (const event of [webhookTestEvent(), webhookTestEvent()]) {
      const delivery = await signed(event);
      const response = await request(app.url)
        .post("/billing/kallima")
        .set(delivery.headers)
        .send(String(delivery.body));
      expect(response.status).toBe(202);
      numbers.push(response.body.request as number);
    }
    expect(numbers[1]).toBe(numbers[0]! + 1);
  });

  it("answers a tampered delivery with the core's 401 body and headers, not Nest's 403", async () => {
    const app = await start();
    const delivery = await signed(jobCompletedEvent());
    const response = await request(app.url)
      .post("/billing/kallima")
      .set(delivery.headers)
      .send(String(delivery.body).replace('"status":"completed"', '"status":"canceled"'));
    expect(response.status).toBe(401);
    expect(response.body).toEqual({
      error: {
        code: "invalid_signature",
        message: expect.stringContaining("signature"),
      },
    });
    expect(response.headers["cache-control"]).toBe("no-store");
    expect(response.headers["content-type"]).toMatch(/^application\/json/);
  });

  it("answers a stale delivery with 401 timestamp_too_old", async () => {
    const app = await start();
    const delivery = await signed(jobCompletedEvent(), {
      timestamp: Math.floor(Date.now() / 1000) - 3600,
    });
    const response = await request(app.url)
      .post("/billing/kallima")
      .set(delivery.headers)
      .send(String(delivery.body));
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe("timestamp_too_old");
  });

  it("answers 400 missing_signature when the headers are absent", async () => {
    const app = await start();
    const response = await request(app.url)
      .post("/billing/kallima")
      .set("content-type", "application/json")
      .send(JSON.stringify(jobCompletedEvent()));
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("missing_signature");
  });

  it("answers 500 raw_body_unavailable naming the fix when rawBody: true is missing", async () => {
    const app = await start(false);
    const delivery = await signed(jobCompletedEvent());
    const response = await request(app.url)
      .post("/billing/kallima")
      .set(delivery.headers)
      .send(String(delivery.body));
    expect(response.status).toBe(500);
    expect(response.body.error.code).toBe("raw_body_unavailable");
    expect(response.body.error.message).toContain(
      "NestFactory.create(AppModule, { rawBody: true })",
    );
  });

  it("fails loudly when @KallimaEvent() is used without the guard", async () => {
    const app = await start();
    const delivery = await signed(jobCompletedEvent());
    const response = await request(app.url)
      .post("/billing/unguarded")
      .set(delivery.headers)
      .send(String(delivery.body));
    expect(response.status).toBe(500);
    expect(JSON.stringify(response.body)).not.toContain("accepted");
  });
});

describe("KallimaWebhookGuard with a global module", () => {
  @Catch(KallimaWebhookException)
  class RejectedFilter implements ExceptionFilter {
    constructor(@Inject(HttpAdapterHost) private readonly host: HttpAdapterHost) {}

    catch(exception: KallimaWebhookException, host: ArgumentsHost) {
      const code = exception.result.error?.code ?? "unknown";
      this.host.httpAdapter.reply(host.switchToHttp().getResponse(), { rejected: code }, 418);
    }
  }

  @Controller("feature")
  class FeatureController {
    @Post()
    @UseGuards(KallimaWebhookGuard)
    @UseFilters(RejectedFilter)
    receive(@KallimaEvent() event: VerifiedKallimaEvent) {
      return { accepted: event.id };
    }
  }
  @Module({ controllers: [FeatureController] })
  class FeatureModule {}

  it("guards a feature module's routes, and its rejection is a catchable HttpException", async () => {
    const app = await startApp("express", {
      imports: [KallimaWebhooksModule.forRoot({ secret: SECRET, isGlobal: true }), FeatureModule],
    });
    open.push(app);
    const event = webhookTestEvent();
    const delivery = await signed(event);
    const ok = await request(app.url)
      .post("/feature")
      .set(delivery.headers)
      .send(String(delivery.body));
    expect([ok.status, ok.body]).toEqual([201, { accepted: event.id }]);
    const rejected = await request(app.url)
      .post("/feature")
      .set(delivery.headers)
      .send(String(delivery.body).replace("aaaa0001", "ffff0001"));
    expect([rejected.status, rejected.body]).toEqual([418, { rejected: "invalid_signature" }]);
  });
});

describe.each(PLATFORMS)("verifyKallimaWebhook on %s", (platform) => {
  function controllerWith(guard: ReturnType<typeof verifyKallimaWebhook>) {
    @Controller("standalone")
    class StandaloneController {
      @All()
      @HttpCode(200)
      @UseGuards(guard)
      receive(@KallimaEvent() event: VerifiedKallimaEvent) {
        return { verified: event.id };
      }
    }
    return StandaloneController;
  }

  it("verifies without the module, with the route's context for a secret function", async () => {
    const seen: string[] = [];
    const guard = verifyKallimaWebhook({
      secret: ({ request, executionContext }) => {
        seen.push(`${request.method} ${executionContext?.getHandler().name}`);
        return SECRET;
      },
      logger: false,
    });
    const app = await startApp(platform, { controllers: [controllerWith(guard)] });
    open.push(app);
    const event = webhookTestEvent();
    const delivery = await signed(event);
    const ok = await request(app.url)
      .post("/standalone")
      .set(delivery.headers)
      .send(String(delivery.body));
    expect([ok.status, ok.body]).toEqual([200, { verified: event.id }]);
    // Verify-only: a repeat reaches the route again, which dedupes by event.id itself.
    const again = await request(app.url)
      .post("/standalone")
      .set(delivery.headers)
      .send(String(delivery.body));
    expect(again.status).toBe(200);
    const put = await request(app.url)
      .put("/standalone")
      .set(delivery.headers)
      .send(String(delivery.body));
    expect([put.status, put.headers.allow, put.body.error.code]).toEqual([
      405,
      "POST",
      "method_not_allowed",
    ]);
    expect(seen).toEqual(["POST receive", "POST receive"]);
  });

  it("refuses handler options at once, with invalid_option", () => {
    expect(() =>
      verifyKallimaWebhook({
        secret: SECRET,
        // @ts-expect-error verify-only: no handlers
        on: { "job.completed": () => {} },
      }),
    ).toThrow(expect.objectContaining({ code: "invalid_option" }));
  });

  it("logs rejected deliveries with Nest's Logger by default", async () => {
    const logged: string[] = [];
    const guard = verifyKallimaWebhook({ secret: SECRET });
    const app = await startApp(
      platform,
      { controllers: [controllerWith(guard)] },
      {
        rawBody: true,
        logger: {
          log() {},
          error() {},
          warn: (message: unknown) => void logged.push(String(message)),
        },
      },
    );
    open.push(app);
    const delivery = await signed(jobCompletedEvent());
    await request(app.url)
      .post("/standalone")
      .set(delivery.headers)
      .send(String(delivery.body).replace("job_", "jab_"));
    expect(logged).toEqual([expect.stringMatching(/^\[kallima-webhooks\] 401 invalid_signature/)]);
  });
});

describe("guarded routes on Fastify, by content type", () => {
  @Controller("typed")
  class TypedController {
    @Post("marked")
    @HttpCode(200)
    @RouteConfig(KALLIMA_FASTIFY_ROUTE_CONFIG)
    @UseGuards(KallimaWebhookGuard)
    marked(@KallimaEvent() event: VerifiedKallimaEvent) {
      return { verified: event.id };
    }

    @Post("unmarked")
    @HttpCode(200)
    @UseGuards(verifyKallimaWebhook({ secret: SECRET, logger: false }))
    unmarked(@KallimaEvent() event: VerifiedKallimaEvent) {
      return { verified: event.id };
    }
  }

  async function post(app: RunningApp, path: string, type: string | undefined) {
    const event = jobCompletedEvent();
    const delivery = await signed(event);
    const { "content-type": _json, ...headers } = delivery.headers as Record<string, string>;
    const response = await fetch(`${app.url}${path}`, {
      method: "POST",
      headers: type === undefined ? headers : { ...headers, "content-type": type },
      body: new TextEncoder().encode(String(delivery.body)),
    });
    const body = (await response.json()) as { error?: { code: string; message: string } };
    return { id: event.id, status: response.status, body };
  }

  it("a route marked with KALLIMA_FASTIFY_ROUTE_CONFIG takes any type; others name the fix", async () => {
    const app = await startApp("fastify", {
      imports: [KallimaWebhooksModule.forRoot({ secret: SECRET, path: false, logger: false })],
      controllers: [TypedController],
    });
    open.push(app);
    for (const type of ["application/json", "text/plain", "application/octet-stream", undefined]) {
      const { id, status, body } = await post(app, "/typed/marked", type);
      expect([type, status, body]).toEqual([type, 200, { verified: id }]);
    }
    const json = await post(app, "/typed/unmarked", "application/json");
    expect(json.status).toBe(200);
    const text = await post(app, "/typed/unmarked", "text/plain");
    expect([text.status, text.body.error?.code]).toEqual([500, "raw_body_unavailable"]);
    expect(text.body.error?.message).toContain("@RouteConfig(KALLIMA_FASTIFY_ROUTE_CONFIG)");
    expect(text.body.error?.message).not.toContain("rawBody: true");
    expect((await post(app, "/typed/unmarked", "application/octet-stream")).status).toBe(415);
  });
});
