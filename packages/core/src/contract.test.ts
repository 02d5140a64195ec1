import { describe, expect, it, vi } from "vitest";
import { buildWebhookHandler, createVerifyOnlyHandler, resolveWebhookHandler } from "./adapter.js";
import {
  createWebhookHandler,
  memoryStore,
  WebhookConfigError,
  type WebhookLogger,
  WebhookVerifier,
} from "./index.js";
import { jobCompletedEvent, signPayload } from "./testing.js";

const OLD = "whsec_contractOldSecret0000000000000000000";
const NEW = "whsec_contractNewSecret0000000000000000000";

async function delivery(secret: string, event: object = jobCompletedEvent()) {
  const signed = await signPayload({ secret, payload: event });
  return { headers: signed.headers, rawBody: signed.body };
}

function recordingLogger() {
  const lines: Array<{ level: "error" | "warn"; message: string; details: unknown }> = [];
  const logger: WebhookLogger = {
    error: (message, details) => void lines.push({ level: "error", message, details }),
    warn: (message, details) => void lines.push({ level: "warn", message, details }),
  };
  return { logger, lines };
}

describe("secrets in core", () => {
  it("takes a function of the context, sync or async, and passes the context through", async () => {
    const seen: unknown[] = [];
    for (const secret of [
      (context: { env: { SECRET: string } }) => context.env.SECRET,
      async (context: { env: { SECRET: string } }) => context.env.SECRET,
    ]) {
      const handler = createWebhookHandler<{ env: { SECRET: string } }>({
        secret,
        logger: false,
        on: { "job.completed": (_event, context) => void seen.push(context.env.SECRET) },
      });
      const context = { env: { SECRET: NEW } };
      expect((await handler.handle({ ...(await delivery(NEW)), context })).status).toBe(200);
      expect(handler.verifier).toBeUndefined();
    }
    expect(seen).toEqual([NEW, NEW]);
  });

  it("shares one handler registry and one dedupe store across a rotation", async () => {
    let current: string | string[] = OLD;
    let runs = 0;
    const handler = createWebhookHandler({
      secret: () => current,
      logger: false,
      on: { "job.completed": () => void runs++ },
    });
    const event = jobCompletedEvent();
    const first = await handler.handle(await delivery(OLD, event));
    expect([first.status, first.secretIndex]).toEqual([200, 0]);
    current = [NEW, OLD];
    const again = await handler.handle(await delivery(OLD, event));
    expect([again.outcome, again.secretIndex]).toEqual(["duplicate", 1]);
    current = NEW;
    const third = await handler.handle(await delivery(NEW, event));
    expect(third.outcome).toBe("duplicate");
    // Rotating through more secrets than the key cache holds never resets deduplication.
    for (let index = 0; index < 20; index++) {
      current = `whsec_rotation${String(index).padStart(30, "0")}`;
      await handler.handle(await delivery(current, jobCompletedEvent()));
    }
    current = NEW;
    expect((await handler.handle(await delivery(NEW, event))).outcome).toBe("duplicate");
    expect(runs).toBe(21);
  });

  it("imports the keys of a secret once, and reuses them", async () => {
    const deliveries = await Promise.all([1, 2, 3, 4, 5].map(() => delivery(NEW)));
    const handler = createWebhookHandler({ secret: () => NEW, logger: false });
    const importKey = vi.spyOn(globalThis.crypto.subtle, "importKey");
    for (const each of deliveries) expect((await handler.handle(each)).status).toBe(200);
    // The Web Crypto engine imports once for the secret; node:crypto imports nothing.
    expect(importKey.mock.calls.length).toBeLessThanOrEqual(1);
    importKey.mockRestore();
  });

  it("answers a bad value from the secret function with a coded 500, reported and logged", async () => {
    const { logger, lines } = recordingLogger();
    const codes: string[] = [];
    const handler = createWebhookHandler({
      secret: () => undefined as unknown as string,
      logger,
      onError: (error) => void codes.push(error.code),
    });
    const result = await handler.handle(await delivery(NEW));
    expect([result.status, result.error?.code]).toEqual([500, "invalid_secret"]);
    expect(codes).toEqual(["invalid_secret"]);
    expect(lines).toMatchObject([
      { level: "error", details: { code: "invalid_secret", status: 500 } },
    ]);
  });

  it("defers a bad static secret to request time only when the adapter asks (build-time frameworks)", async () => {
    expect(() => createWebhookHandler({ secret: undefined as unknown as string })).toThrow(
      WebhookConfigError,
    );
    const { logger, lines } = recordingLogger();
    const handler = buildWebhookHandler(
      { secret: undefined as unknown as string, logger },
      { deferConfigErrors: true },
    );
    const result = await handler.handle(await delivery(NEW));
    expect([result.status, result.error?.code]).toEqual([500, "invalid_secret"]);
    expect(lines[0]?.level).toBe("error");
    // Options that never depend on a request still fail at start-up.
    expect(() =>
      buildWebhookHandler({ secret: NEW, toleranceSeconds: -1 }, { deferConfigErrors: true }),
    ).toThrow(WebhookConfigError);
  });
});

describe("logging", () => {
  it("logs receiver-side failures as errors with their cause, rejections as warnings", async () => {
    const { logger, lines } = recordingLogger();
    const boom = new Error("database is down");
    const handler = createWebhookHandler({
      secret: NEW,
      logger,
      on: {
        "job.completed": () => {
          throw boom;
        },
      },
    });
    await handler.handle(await delivery(NEW));
    await handler.handle(await delivery(OLD));
    expect(lines).toMatchObject([
      { level: "error", details: { code: "handler_failed", status: 500, cause: boom } },
      { level: "warn", details: { code: "invalid_signature", status: 401 } },
    ]);
    const text = JSON.stringify(lines.map((line) => line.message));
    expect(text).not.toContain(NEW);
    expect(text).not.toContain('job.completed","api_version');
  });

  it("logs a store outage as an error, not a 405 or a 409, and is silenced by false", async () => {
    const { logger, lines } = recordingLogger();
    const handler = createWebhookHandler({
      secret: NEW,
      logger,
      idempotency: {
        store: {
          claim: () => {
            throw new Error("redis down");
          },
          markDone() {},
          release() {},
          extend: () => true,
        },
      },
      on: { "job.completed": () => {} },
    });
    expect((await handler.handle(await delivery(NEW))).status).toBe(503);
    expect((await handler.handle({ method: "GET", ...(await delivery(NEW)) })).status).toBe(405);
    expect(lines.map((line) => [line.level, (line.details as { code: string }).code])).toEqual([
      ["error", "idempotency_store_unavailable"],
    ]);
    const quiet = createWebhookHandler({ secret: NEW, logger: false });
    const spy = vi.spyOn(console, "warn").mockImplementation(() => {});
    await quiet.handle(await delivery(OLD));
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
  });

  it("logs to the console by default", async () => {
    const spy = vi.spyOn(console, "error").mockImplementation(() => {});
    const handler = createWebhookHandler({
      secret: NEW,
      on: {
        "job.completed": () => {
          throw new Error("x");
        },
      },
    });
    await handler.handle(await delivery(NEW));
    expect(spy).toHaveBeenCalledWith(
      expect.stringContaining("500 handler_failed"),
      expect.anything(),
    );
    spy.mockRestore();
  });
});

describe("method policy, body reader and outcomes", () => {
  it("answers any method but POST with 405 and never reads the body", async () => {
    const handler = createWebhookHandler({ secret: NEW, logger: false });
    const reader = vi.fn(() => "{}");
    const result = await handler.handle({ method: "PUT", headers: {}, rawBody: reader });
    expect([result.status, result.headers.allow]).toEqual([405, "POST"]);
    expect(reader).not.toHaveBeenCalled();
    const verified = await handler.verify({ method: "GET", headers: {}, rawBody: reader });
    expect(verified.ok ? 0 : verified.result.status).toBe(405);
  });

  it("calls a body reader with its own maxBodyBytes", async () => {
    const handler = createWebhookHandler({ secret: NEW, maxBodyBytes: 4096, logger: false });
    const signed = await delivery(NEW);
    const reader = vi.fn(() => signed.rawBody);
    expect((await handler.handle({ headers: signed.headers, rawBody: reader })).status).toBe(200);
    expect(reader).toHaveBeenCalledWith(4096);
  });

  it("says outcome unhandled for an event only onUnhandled took", async () => {
    const handler = createWebhookHandler({ secret: NEW, logger: false, onUnhandled: () => {} });
    const result = await handler.handle(await delivery(NEW));
    expect([result.outcome, JSON.parse(result.body).outcome]).toEqual(["unhandled", "unhandled"]);
  });

  it("reports the header format and the matched secret on the result", async () => {
    const handler = createWebhookHandler({ secret: [OLD, NEW], logger: false });
    const signed = await signPayload({
      secret: NEW,
      payload: jobCompletedEvent(),
      format: "kallima-signature",
    });
    const result = await handler.handle({ headers: signed.headers, rawBody: signed.body });
    expect([result.format, result.secretIndex]).toEqual(["kallima-signature", 1]);
  });
});

describe("verify-only mode", () => {
  it.each(["on", "onUnhandled", "idempotency", "deadlineMs"])(
    "refuses the handler option %s with a clear error",
    (option) => {
      const value = option === "on" ? {} : option === "deadlineMs" ? 1000 : () => {};
      expect(() =>
        createVerifyOnlyHandler({ secret: NEW, [option]: value } as never, {
          adapterName: "verifyKallimaWebhook",
        }),
      ).toThrow(/verifyKallimaWebhook only verifies.*`\w+`/);
    },
  );

  it("verifies without deduplicating: the same event verifies twice", async () => {
    const handler = createVerifyOnlyHandler({ secret: NEW, logger: false });
    const event = jobCompletedEvent();
    for (let round = 0; round < 2; round++) {
      const outcome = await handler.verify(await delivery(NEW, event));
      expect(outcome.ok && outcome.event.id).toBe(event.id);
    }
  });

  it("takes a handler as it is", () => {
    const handler = createWebhookHandler({ secret: NEW, idempotency: { store: memoryStore() } });
    expect(createVerifyOnlyHandler(handler)).toBe(handler);
    expect(resolveWebhookHandler(handler)).toBe(handler);
  });
});

describe("answer codes", () => {
  it("maps every code an answer can carry to its status, the answer-only ones included", async () => {
    const { statusForCode } = await import("./index.js");
    expect(statusForCode("method_not_allowed")).toBe(405);
    expect(statusForCode("event_in_progress")).toBe(409);
    expect(statusForCode("handler_timeout")).toBe(503);
    expect(statusForCode("request_aborted")).toBe(400);
  });
});

describe("configuration messages", () => {
  it.each([
    [{ secret: "whsec_" }, /only the "whsec_" prefix/],
    [{ secret: NEW, toleranceSeconds: "300" }, /got "300" \(a string: pass a number\)/],
    [
      { secret: NEW, maxBodyBytes: "1024" },
      /maxBodyBytes must be a positive integer, got "1024" \(a string\)/,
    ],
  ])("says exactly what is wrong with %j", (options, message) => {
    expect(() => createWebhookHandler(options as never)).toThrow(message);
  });

  it("hints that a millisecond timestamp is milliseconds", async () => {
    const signed = await signPayload({
      secret: NEW,
      payload: jobCompletedEvent(),
      timestamp: Date.now(),
    });
    const error = await new WebhookVerifier({ secret: NEW })
      .verify({ payload: signed.body, signature: signed.signature, timestamp: signed.timestamp })
      .catch((caught: Error) => caught);
    expect((error as Error).message).toMatch(/looks like milliseconds/);
  });
});
