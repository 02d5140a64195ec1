import { jobCompletedEvent, signPayload } from "@kallima/webhooks/testing";
import { BOUNDED_READ_BYTES, uploadPastLimit } from "@kallima/webhooks-conformance/node-robustness";
import { Body, Controller, HttpCode, Injectable, Post } from "@nestjs/common";
import { afterEach, describe, expect, it } from "vitest";
import { type KallimaEvent, KallimaWebhooksModule, OnKallimaEvent } from "./index.js";
import { PLATFORMS, type RunningApp, startApp } from "./test-support/app.js";

const SECRET = "whsec_nestContentTypeSecret0123456789abcd";

let ran: string[] = [];

@Injectable()
class JobsService {
  @OnKallimaEvent("job.completed")
  onCompleted(event: KallimaEvent<"job.completed">) {
    ran.push(event.id);
  }
}

/** A route of the app's own, whose parsing the module must leave as the platform has it. */
@Controller("echo")
class EchoController {
  @Post()
  @HttpCode(200)
  echo(@Body() body: unknown) {
    return { type: typeof body, body };
  }
}

const open: RunningApp[] = [];
afterEach(async () => {
  for (const app of open.splice(0)) await app.close();
  ran = [];
});

const CONTENT_TYPES = [
  ["application/json", "application/json"],
  ["text/plain", "text/plain; charset=utf-8"],
  ["application/octet-stream", "application/octet-stream"],
  ["no content type", undefined],
] as const;

describe.each(PLATFORMS)("content types on %s (rawBody: true)", (platform) => {
  async function start(): Promise<RunningApp> {
    const app = await startApp(platform, {
      imports: [KallimaWebhooksModule.forRoot({ secret: SECRET, logger: false })],
      controllers: [EchoController],
      providers: [JobsService],
    });
    open.push(app);
    return app;
  }

  it.each(CONTENT_TYPES)("the module's route accepts a delivery sent as %s", async (_, type) => {
    const app = await start();
    const event = jobCompletedEvent();
    const signed = await signPayload({ secret: SECRET, payload: event });
    const { "content-type": _json, ...headers } = signed.headers as Record<string, string>;
    const response = await fetch(`${app.url}/kallima-events`, {
      method: "POST",
      headers: type === undefined ? headers : { ...headers, "content-type": type },
      // Bytes, so that fetch adds no content type of its own.
      body: new TextEncoder().encode(String(signed.body)),
    });
    expect([response.status, await response.json()]).toEqual([
      200,
      { received: true, outcome: "handled" },
    ]);
    expect(ran).toEqual([event.id]);
  });

  it("leaves the parsing of the app's other routes as it was", async () => {
    const app = await start();
    const post = (body: string, type?: string) =>
      fetch(`${app.url}/echo`, {
        method: "POST",
        headers: type === undefined ? {} : { "content-type": type },
        body: new TextEncoder().encode(body),
      });
    const json = await post('{"a":1}', "application/json");
    expect(await json.json()).toEqual({ type: "object", body: { a: 1 } });
    const text = await post("hello", "text/plain");
    const octets = await post("hello", "application/octet-stream");
    const none = await post("hello");
    if (platform === "fastify") {
      // Fastify's own rules: text/plain is a string, other types are 415.
      expect(await text.json()).toEqual({ type: "string", body: "hello" });
      // Fastify's own answer, as without the module.
      const unsupported = { statusCode: 415, message: "Unsupported Media Type" };
      expect([octets.status, await octets.json()]).toEqual([415, unsupported]);
      expect([none.status, await none.json()]).toEqual([415, unsupported]);
    } else {
      // Nest's Express parsers read JSON and forms only.
      expect(await text.json()).toEqual({ type: "undefined" });
      expect(octets.status).toBe(200);
      expect(none.status).toBe(200);
    }
  });
});

describe("an untyped upload on Fastify, read by the core", () => {
  it("answers 413 past maxBodyBytes and closes the connection after a bounded read", async () => {
    let runs = 0;
    const app = await startApp("fastify", {
      imports: [
        KallimaWebhooksModule.forRoot({
          secret: SECRET,
          maxBodyBytes: 1024,
          logger: false,
          on: { "job.completed": () => void runs++ },
        }),
      ],
    });
    open.push(app);
    const signed = await signPayload({ secret: SECRET, payload: jobCompletedEvent() });
    const headers = Object.entries(signed.headers).map(([name, value]): [string, string] =>
      name === "content-type" ? [name, "application/octet-stream"] : [name, value],
    );
    const upload = await uploadPastLimit({ ...app, path: "/kallima-events" }, headers, "chunked");
    expect([upload.response.status, upload.response.headers.connection]).toEqual([413, "close"]);
    expect(JSON.parse(upload.response.body)).toMatchObject({
      error: { code: "payload_too_large" },
    });
    expect(await upload.client.closedWithin(3000)).toBe(true);
    expect(upload.serverBytesRead()).toBeLessThan(BOUNDED_READ_BYTES);
    upload.client.socket.destroy();
    expect(runs).toBe(0);
  });
});
