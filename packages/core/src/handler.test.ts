import { describe, expect, it, vi } from "vitest";
import { isWebhookHandler, resolveWebhookHandler } from "./adapter.js";
import {
  createWebhookHandler,
  type IdempotencyStore,
  type KallimaWebhookError,
  memoryStore,
  PayloadTooLargeError,
  type VerifiedKallimaEvent,
  WebhookConfigError,
} from "./index.js";
import { createSignedRequest, jobCompletedEvent, jobFailedEvent, signPayload } from "./testing.js";

const SECRET = "whsec_handlerTestSecret000000000000000000";

async function delivery(payload: object | string = jobCompletedEvent()) {
  const signed = await signPayload({ secret: SECRET, payload });
  return { headers: signed.headers, rawBody: signed.body };
}

const json = (body: string) =>
  JSON.parse(body) as {
    received?: boolean;
    outcome?: string;
    error?: { code: string; message: string };
  };

describe("createWebhookHandler dispatch", () => {
  it("runs the handler registered for the event's type, typed by the event map", async () => {
    const seen: string[] = [];
    const handler = createWebhookHandler({
      secret: SECRET,
      on: { "job.completed": (event) => void seen.push(`completed:${event.data.id}`) },
    }).on("job.failed", (event) => void seen.push(`failed:${event.data.error_message}`));
    expect(
      (await handler.handle(await delivery(jobCompletedEvent({ data: { id: "job_a" } })))).status,
    ).toBe(200);
    expect((await handler.handle(await delivery(jobFailedEvent()))).status).toBe(200);
    expect(seen).toEqual(["completed:job_a", "failed:GPU ran out of memory"]);
  });

  it("runs every handler for one type, in registration order", async () => {
    const order: number[] = [];
    const handler = createWebhookHandler({
      secret: SECRET,
      on: { "job.completed": () => void order.push(1) },
    })
      .on("job.completed", async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        order.push(2);
      })
      .on("job.completed", () => void order.push(3));
    const result = await handler.handle(await delivery());
    expect(result.outcome).toBe("handled");
    expect(order).toEqual([1, 2, 3]);
  });

  it("acknowledges an event with no handler as unhandled, or gives it to onUnhandled", async () => {
    const plain = createWebhookHandler({ secret: SECRET });
    const result = await plain.handle(await delivery(jobCompletedEvent()));
    expect([result.status, result.outcome, json(result.body)]).toEqual([
      200,
      "unhandled",
      { received: true, outcome: "unhandled" },
    ]);

    const unknown: string[] = [];
    const catchAll = createWebhookHandler({
      secret: SECRET,
      onUnhandled: (event) => void unknown.push(event.type),
    });
    const future = {
      id: "evt_f",
      type: "antibody_design.failed",
      api_version: "2026-04-23",
      created_at: "",
      data: {},
    };
    const answered = await catchAll.handle(await delivery(future));
    expect([answered.status, answered.outcome]).toEqual([200, "unhandled"]);
    expect(unknown).toEqual(["antibody_design.failed"]);
  });

  it("returns the verified event with the result", async () => {
    const event = jobCompletedEvent();
    const result = await createWebhookHandler({ secret: SECRET }).handle(await delivery(event));
    expect(result.event).toEqual(event);
  });

  it("refuses handlers that are not functions at construction", () => {
    expect(() =>
      createWebhookHandler({ secret: SECRET, on: { "job.completed": "nope" as never } }),
    ).toThrow(WebhookConfigError);
    expect(() => createWebhookHandler({ secret: SECRET }).on("job.completed", 1 as never)).toThrow(
      WebhookConfigError,
    );
  });

  it.each([0, -1, 1.5, Number.NaN, "1mb"])("refuses maxBodyBytes %s", (maxBodyBytes) => {
    expect(() =>
      createWebhookHandler({ secret: SECRET, maxBodyBytes: maxBodyBytes as number }),
    ).toThrowError(expect.objectContaining({ code: "invalid_option" }));
  });
});

describe("createWebhookHandler failures", () => {
  it("answers 500 for a handler that throws anything, marks nothing handled, and reports it", async () => {
    for (const thrown of [new Error("boom"), "a string", undefined, { code: 1 }]) {
      const errors: KallimaWebhookError[] = [];
      let calls = 0;
      const handler = createWebhookHandler({
        secret: SECRET,
        on: {
          "job.completed": () => {
            calls++;
            if (calls === 1) throw thrown;
          },
        },
        onError: (error) => void errors.push(error),
      });
      const request = await delivery();
      const failed = await handler.handle(request);
      expect([failed.status, failed.outcome, json(failed.body).error?.code]).toEqual([
        500,
        "handler_failed",
        "handler_failed",
      ]);
      expect(errors[0]?.cause).toBe(thrown);
      const retried = await handler.handle(request);
      expect([retried.status, retried.outcome]).toEqual([200, "handled"]);
    }
  });

  it("reports verification failures to onError with their status, and survives a throwing onError", async () => {
    const contexts: Array<[string, number]> = [];
    const handler = createWebhookHandler({
      secret: SECRET,
      onError: (error, context) => {
        contexts.push([error.code, context.status]);
        throw new Error("logger broke");
      },
    });
    const request = await delivery();
    const result = await handler.handle({
      ...request,
      headers: { ...request.headers, "x-kallima-signature": "0".repeat(64) },
    });
    expect(result.status).toBe(401);
    expect(contexts).toEqual([["invalid_signature", 401]]);
  });

  it("answers 500 raw_body_unavailable when there is no body, saying why", async () => {
    const request = await delivery();
    const result = await createWebhookHandler({ secret: SECRET }).handle({
      headers: request.headers,
      rawBody: undefined,
    });
    expect(result.status).toBe(500);
    expect(json(result.body).error).toMatchObject({
      code: "raw_body_unavailable",
      message: expect.stringContaining("exact bytes"),
    });
  });

  it("answers 413 for a string or byte body over maxBodyBytes, counting UTF-8 bytes", async () => {
    const handler = createWebhookHandler({ secret: SECRET, maxBodyBytes: 10 });
    const request = await delivery();
    expect((await handler.handle({ headers: request.headers, rawBody: "ééééé!" })).status).toBe(
      413,
    );
    expect((await handler.handle({ headers: request.headers, rawBody: "éééé!" })).status).not.toBe(
      413,
    );
    expect(
      (await handler.handle({ headers: request.headers, rawBody: new Uint8Array(11) })).status,
    ).toBe(413);
    expect(
      (await handler.handle({ headers: request.headers, rawBody: new ArrayBuffer(11) })).status,
    ).toBe(413);
  });

  it("turns a body reader's coded rejection into its answer", async () => {
    const request = await delivery();
    const result = await createWebhookHandler({ secret: SECRET }).handle({
      headers: request.headers,
      rawBody: Promise.reject(new PayloadTooLargeError(5)),
    });
    expect(result.status).toBe(413);
  });

  it("reads headers from Headers, Node's record and mixed-case records", async () => {
    const handler = createWebhookHandler({ secret: SECRET });
    const { headers, rawBody } = await delivery();
    const mixed = {
      "X-Kallima-Signature": headers["x-kallima-signature"],
      "X-KALLIMA-TIMESTAMP": headers["x-kallima-timestamp"],
    };
    expect((await handler.handle({ headers: new Headers(headers), rawBody })).status).toBe(200);
    expect((await handler.handle({ headers: mixed, rawBody })).status).toBe(200);
    const twice = { ...headers, "X-Kallima-Signature": headers["x-kallima-signature"] };
    expect(json((await handler.handle({ headers: twice, rawBody })).body).error?.code).toBe(
      "invalid_signature",
    );
  });
});

describe("createWebhookHandler idempotency", () => {
  it("runs a repeated delivery once by default and every time with idempotency: false", async () => {
    for (const [idempotency, expected] of [
      [undefined, 1],
      [false, 3],
    ] as const) {
      let runs = 0;
      const handler = createWebhookHandler({
        secret: SECRET,
        on: { "job.completed": () => void runs++ },
        ...(idempotency === false ? { idempotency } : {}),
      });
      const request = await delivery();
      const outcomes = [];
      for (let i = 0; i < 3; i++) outcomes.push((await handler.handle(request)).outcome);
      expect(runs).toBe(expected);
      if (expected === 1) expect(outcomes).toEqual(["handled", "duplicate", "duplicate"]);
    }
  });

  it("runs concurrent duplicates once; the others get 409 with Retry-After", async () => {
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const handler = createWebhookHandler({
      secret: SECRET,
      on: {
        "job.completed": async () => {
          runs++;
          await gate;
        },
      },
    });
    const request = await delivery();
    const first = handler.handle(request);
    await vi.waitFor(() => expect(runs).toBe(1));
    const others = await Promise.all(Array.from({ length: 10 }, () => handler.handle(request)));
    release();
    expect((await first).status).toBe(200);
    expect(new Set(others.map((result) => result.status))).toEqual(new Set([409]));
    expect(others[0]?.headers["retry-after"]).toMatch(/^\d+$/);
    expect(runs).toBe(1);
  });

  const failingStore = (
    fail: Partial<Record<keyof IdempotencyStore, boolean>>,
  ): IdempotencyStore => {
    const inner = memoryStore();
    const check = (name: keyof IdempotencyStore) => {
      if (fail[name]) throw new Error(`store ${name} down`);
    };
    return {
      claim: (key) => {
        check("claim");
        return inner.claim(key);
      },
      markDone: (lease) => {
        check("markDone");
        return inner.markDone(lease);
      },
      release: (lease) => {
        check("release");
        return inner.release(lease);
      },
      extend: (lease) => {
        check("extend");
        return inner.extend(lease);
      },
    };
  };

  it("answers 503 with Retry-After when the store fails, without running handlers (fail closed)", async () => {
    let runs = 0;
    const errors: string[] = [];
    const handler = createWebhookHandler({
      secret: SECRET,
      on: { "job.completed": () => void runs++ },
      idempotency: { store: failingStore({ claim: true }) },
      onError: (error) => void errors.push(error.code),
    });
    const result = await handler.handle(await delivery());
    expect([result.status, result.outcome, result.headers["retry-after"]]).toEqual([
      503,
      "store_unavailable",
      "30",
    ]);
    expect(runs).toBe(0);
    expect(errors).toEqual(["idempotency_store_unavailable"]);
  });

  it("runs handlers anyway with onStoreError: process, and reports the fault", async () => {
    let runs = 0;
    const errors: string[] = [];
    const handler = createWebhookHandler({
      secret: SECRET,
      on: { "job.completed": () => void runs++ },
      idempotency: { store: failingStore({ claim: true }), onStoreError: "process" },
      onError: (error) => void errors.push(error.code),
    });
    const result = await handler.handle(await delivery());
    expect([result.status, runs, errors]).toEqual([200, 1, ["idempotency_store_unavailable"]]);
  });

  it("still answers 200 when marking done fails after a successful handler, and reports it", async () => {
    const reported: Array<[string, number, string | undefined]> = [];
    const handler = createWebhookHandler({
      secret: SECRET,
      on: { "job.completed": () => {} },
      idempotency: { store: failingStore({ markDone: true }) },
      onError: (error, context) =>
        void reported.push([error.code, context.status, context.event?.id]),
    });
    const event = jobCompletedEvent();
    const result = await handler.handle(await delivery(event));
    expect(result.status).toBe(200);
    expect(reported).toEqual([["idempotency_store_unavailable", 200, event.id]]);
  });

  it("answers 500 for the handler failure when releasing the claim fails too", async () => {
    const codes: string[] = [];
    const handler = createWebhookHandler({
      secret: SECRET,
      on: { "job.completed": () => Promise.reject(new Error("x")) },
      idempotency: { store: failingStore({ release: true }) },
      onError: (error) => void codes.push(error.code),
    });
    const result = await handler.handle(await delivery());
    expect(result.status).toBe(500);
    expect(codes).toEqual(["idempotency_store_unavailable", "handler_failed"]);
  });

  it("does not touch the store for events nobody handles", async () => {
    const claim = vi.fn(() => ({ status: "done" }) as const);
    const handler = createWebhookHandler({
      secret: SECRET,
      idempotency: { store: { claim, markDone() {}, release() {}, extend: () => true } },
    });
    expect((await handler.handle(await delivery())).outcome).toBe("unhandled");
    expect(claim).not.toHaveBeenCalled();
  });
});

describe("WebhookHandler.fetch and verify", () => {
  it("answers a signed Request", async () => {
    const seen: VerifiedKallimaEvent[] = [];
    const handler = createWebhookHandler({
      secret: SECRET,
      on: { "webhook.test": (event) => void seen.push(event) },
    });
    const response = await handler.fetch(
      await createSignedRequest({
        secret: SECRET,
        payload: { id: "evt_t", type: "webhook.test", data: { webhook_id: "w" } },
      }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("application/json");
    expect(await response.json()).toEqual({ received: true, outcome: "handled" });
    expect(seen).toHaveLength(1);
  });

  it("answers 405 with Allow: POST for other methods", async () => {
    const response = await createWebhookHandler({ secret: SECRET }).fetch(
      new Request("http://localhost/", { method: "GET" }),
    );
    expect([response.status, response.headers.get("allow")]).toEqual([405, "POST"]);
  });

  it("answers 413 from Content-Length before reading, and while streaming without it", async () => {
    const handler = createWebhookHandler({ secret: SECRET, maxBodyBytes: 16 });
    const declared = new Request("http://localhost/", {
      method: "POST",
      body: "x".repeat(17),
      headers: { "content-length": "17" },
    });
    expect((await handler.fetch(declared)).status).toBe(413);
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(8));
        if (pulled > 100) controller.close();
      },
    });
    const streamed = new Request("http://localhost/", {
      method: "POST",
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect((await handler.fetch(streamed)).status).toBe(413);
    expect(pulled).toBeLessThan(10);
  });

  it("answers 500 raw_body_unavailable when the Request body was already read", async () => {
    const request = await createSignedRequest({ secret: SECRET, payload: jobCompletedEvent() });
    await request.text();
    const response = await createWebhookHandler({ secret: SECRET }).fetch(request);
    expect(response.status).toBe(500);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      "raw_body_unavailable",
    );
  });

  it("verify() checks without deduplicating or dispatching", async () => {
    let runs = 0;
    const handler = createWebhookHandler({
      secret: SECRET,
      on: { "job.completed": () => void runs++ },
    });
    const request = await delivery();
    const first = await handler.verify(request);
    const second = await handler.verify(request);
    expect(first.ok && second.ok).toBe(true);
    expect(runs).toBe(0);
    const bad = await handler.verify({ ...request, rawBody: "{}" });
    expect(bad.ok ? 0 : bad.result.status).toBe(401);
  });
});

describe("resolveWebhookHandler", () => {
  it("takes options or an existing handler", () => {
    const handler = createWebhookHandler({ secret: SECRET });
    expect(resolveWebhookHandler(handler)).toBe(handler);
    expect(isWebhookHandler(resolveWebhookHandler({ secret: SECRET }))).toBe(true);
    expect(isWebhookHandler({ secret: SECRET })).toBe(false);
  });
});

describe("handler context", () => {
  it("passes the request's context to every handler and to onUnhandled, and undefined without one", async () => {
    const seen: unknown[] = [];
    const handler = createWebhookHandler<{ env: string } | undefined>({
      secret: SECRET,
      on: { "job.completed": (_event, context) => void seen.push(context) },
      onUnhandled: (_event, context) => void seen.push(context),
    });
    await handler.handle({ ...(await delivery()), context: { env: "handle" } });
    await handler.handle(await delivery());
    await handler.handle({ ...(await delivery(jobFailedEvent())), context: { env: "unhandled" } });
    const request = await createSignedRequest({ secret: SECRET, payload: jobCompletedEvent() });
    expect((await handler.fetch(request, { env: "fetch" })).status).toBe(200);
    expect(seen).toEqual([{ env: "handle" }, undefined, { env: "unhandled" }, { env: "fetch" }]);
  });
});
