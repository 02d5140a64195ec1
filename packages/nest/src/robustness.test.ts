import { jobCompletedEvent, signPayload } from "@kallima/webhooks/testing";
import {
  BOUNDED_READ_BYTES,
  exchange,
  RawClient,
  type RobustnessTarget,
  runNodeRobustnessSuite,
  uploadPastLimit,
  watchProcessErrors,
} from "@kallima/webhooks-conformance/node-robustness";
import {
  type CallHandler,
  Controller,
  type ExecutionContext,
  HttpCode,
  Injectable,
  type NestApplicationOptions,
  type NestInterceptor,
  Post,
  UseGuards,
} from "@nestjs/common";
import { APP_INTERCEPTOR } from "@nestjs/core";
import type { Observable } from "rxjs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KallimaWebhookGuard, KallimaWebhooksModule } from "./index.js";
import {
  PLATFORMS,
  type Platform,
  type RunningApp,
  setRequestTimeout,
  startApp,
} from "./test-support/app.js";

const SECRET = "whsec_nestRobustnessSecret0123456789abcdef";

const targets: {
  name: string;
  platform: Platform;
  appOptions: NestApplicationOptions;
  bodyReader: RobustnessTarget["bodyReader"];
  after413: RobustnessTarget["after413"];
}[] = [
  {
    // Nest's JSON parser (body-parser) reads the body for rawBody: an aborted upload never
    // reaches the route, and past its limit it reads the rest of the upload before its 413.
    name: "express platform, rawBody: true",
    platform: "express",
    appOptions: { rawBody: true },
    bodyReader: "framework",
    after413: "drained",
  },
  {
    name: "express platform, bodyParser: false (the route reads the stream)",
    platform: "express",
    appOptions: { bodyParser: false },
    bodyReader: "core",
    after413: "closed",
  },
  {
    // Fastify reads the body for rawBody, and closes the connection after its own 413.
    name: "fastify platform, rawBody: true",
    platform: "fastify",
    appOptions: { rawBody: true },
    bodyReader: "framework",
    after413: "closed",
  },
];

for (const target of targets) {
  runNodeRobustnessSuite(`nest on ${target.name}, module route`, {
    bodyReader: target.bodyReader,
    repeatedHeaders: "refused",
    after413: target.after413,
    async start({ requestTimeoutMs, ...options }) {
      const running = await startApp(
        target.platform,
        { imports: [KallimaWebhooksModule.forRoot(options)] },
        { ...target.appOptions, logger: false },
        (app) => setRequestTimeout(app, requestTimeoutMs),
      );
      return { ...running, path: "/kallima-events" };
    },
  });
}

@Controller("guarded")
class GuardedController {
  @Post()
  @HttpCode(200)
  @UseGuards(KallimaWebhookGuard)
  receive(): { reached: true } {
    return { reached: true };
  }
}

/** Starts the answer before the route runs when asked to: a misbehaving interceptor. */
@Injectable()
class FlushWhenAsked implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const req = http.getRequest<{ headers: Record<string, unknown> }>();
    const res = http.getResponse<{ raw?: { flushHeaders(): void }; flushHeaders?(): void }>();
    if (req.headers["x-flush-first"]) (res.raw ?? (res as { flushHeaders(): void })).flushHeaders();
    return next.handle();
  }
}

async function signedLines() {
  const signed = await signPayload({ secret: SECRET, payload: jobCompletedEvent() });
  return { headers: Object.entries(signed.headers), body: Buffer.from(signed.body) };
}

describe.each(PLATFORMS)("nest on %s, raw sockets", (platform) => {
  const open: RunningApp[] = [];
  let watch: ReturnType<typeof watchProcessErrors>;
  beforeEach(() => {
    watch = watchProcessErrors();
  });
  afterEach(async () => {
    for (const app of open.splice(0)) await app.close();
    expect(await watch.stop()).toEqual([]);
  });

  async function start(
    forRoot: Parameters<typeof KallimaWebhooksModule.forRoot>[0],
    appOptions: NestApplicationOptions = { rawBody: true },
  ) {
    const app = await startApp(
      platform,
      {
        imports: [KallimaWebhooksModule.forRoot(forRoot)],
        controllers: [GuardedController],
        providers: [{ provide: APP_INTERCEPTOR, useClass: FlushWhenAsked }],
      },
      appOptions,
    );
    open.push(app);
    return app;
  }

  it("KallimaWebhookGuard refuses a repeated X-Kallima-Signature; the route never runs", async () => {
    const app = await start({ secret: SECRET });
    const { headers, body } = await signedLines();
    const signature = headers.find(([name]) => name === "x-kallima-signature")!;
    const repeated = await exchange(app.port, {
      path: "/guarded",
      headers: [...headers, signature],
      body,
    });
    expect(repeated.status).toBe(401);
    expect(JSON.parse(repeated.body)).toMatchObject({ error: { code: "invalid_signature" } });
    const once = await exchange(app.port, { path: "/guarded", headers, body });
    expect(JSON.parse(once.body)).toEqual({ reached: true });
  });

  it("KallimaWebhookGuard refuses a repeated X-Kallima-Timestamp", async () => {
    const app = await start({ secret: SECRET });
    const { headers, body } = await signedLines();
    const timestamp = headers.find(([name]) => name === "x-kallima-timestamp")!;
    const repeated = await exchange(app.port, {
      path: "/guarded",
      headers: [...headers, timestamp],
      body,
    });
    expect(repeated.status).toBe(400);
    expect(JSON.parse(repeated.body)).toMatchObject({ error: { code: "invalid_timestamp" } });
  });

  // Only Express can hand the stream over unread (bodyParser: false); Fastify always parses.
  it.runIf(platform === "express")(
    "KallimaWebhookGuard answers 413 to an upload that goes on, and closes the connection (bodyParser: false)",
    async () => {
      const app = await start({ secret: SECRET, maxBodyBytes: 1024 }, { bodyParser: false });
      const { headers } = await signedLines();
      const upload = await uploadPastLimit({ ...app, path: "/guarded" }, headers, "chunked");
      expect([upload.response.status, upload.response.headers.connection]).toEqual([413, "close"]);
      expect(await upload.client.closedWithin(3000)).toBe(true);
      expect(upload.serverBytesRead()).toBeLessThan(BOUNDED_READ_BYTES);
      upload.client.socket.destroy();
    },
  );

  it("closes the connection when an interceptor started the answer before the route's", async () => {
    let runs = 0;
    const app = await start({
      secret: SECRET,
      on: { "job.completed": () => void runs++ },
    });
    const { headers, body } = await signedLines();
    const client = await RawClient.open(app.port);
    await client.head("POST", "/kallima-events", [
      ...headers,
      ["X-Flush-First", "1"],
      ["Content-Length", String(body.length)],
    ]);
    await client.write(body);
    // The route's status can no longer be sent: a cut connection makes Kallima retry.
    expect(await client.closedWithin(3000)).toBe(true);
    expect(runs).toBe(1);
    const retry = await exchange(app.port, { path: "/kallima-events", headers, body });
    expect([retry.status, JSON.parse(retry.body)]).toEqual([
      200,
      { received: true, outcome: "duplicate" },
    ]);
  });
});
