import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createWebhookHandler,
  type IdempotencyStore,
  memoryStore,
  WebhookConfigError,
  WebhookVerifier,
} from "./index.js";
import { jobCompletedEvent, signPayload } from "./testing.js";

const SECRET = "whsec_handlerHardeningSecret000000000000";

const crashes: unknown[] = [];
const onCrash = (error: unknown) => void crashes.push(error);
beforeEach(() => {
  crashes.length = 0;
  process.on("unhandledRejection", onCrash);
});
afterEach(async () => {
  await new Promise((resolve) => setTimeout(resolve, 50));
  process.off("unhandledRejection", onCrash);
  expect(crashes).toEqual([]);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function delivery(payload: object | string = jobCompletedEvent()) {
  const signed = await signPayload({ secret: SECRET, payload });
  return { headers: signed.headers, rawBody: signed.body };
}

function deferred() {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((done, fail) => {
    resolve = done;
    reject = fail;
  });
  return { promise, resolve, reject };
}

describe("onError that rejects", () => {
  it("is contained: an async logger whose sink is down cannot crash the process", async () => {
    const handler = createWebhookHandler({
      secret: SECRET,
      onError: async () => {
        throw new Error("log sink is down");
      },
      on: {
        "job.completed": () => {
          throw new Error("handler failed");
        },
      },
    });
    const forged = {
      ...(await delivery()),
      headers: { "x-kallima-signature": "0".repeat(64), "x-kallima-timestamp": "1" },
    };
    expect((await handler.handle(forged)).status).toBe(401);
    expect((await handler.handle(await delivery())).status).toBe(500);
  });
});

describe("handler deadline", () => {
  it("answers 503 handler_timeout with Retry-After, then 409 while it runs, then 200 duplicate", async () => {
    const gate = deferred();
    let runs = 0;
    const handler = createWebhookHandler({
      secret: SECRET,
      deadlineMs: 100,
      on: {
        "job.completed": async () => {
          runs++;
          await gate.promise;
        },
      },
    });
    const event = jobCompletedEvent();
    const first = await handler.handle(await delivery(event));
    expect(first).toMatchObject({ status: 503, outcome: "handler_timeout" });
    expect(first.error?.code).toBe("handler_timeout");
    expect(Number(first.headers["retry-after"])).toBeGreaterThan(0);
    const retry = await handler.handle(await delivery(event));
    expect([retry.status, retry.outcome]).toEqual([409, "in_progress"]);
    gate.resolve();
    await sleep(20);
    const later = await handler.handle(await delivery(event));
    expect([later.status, later.outcome]).toEqual([200, "duplicate"]);
    expect(runs).toBe(1);
  });

  it("renews the lease while a slow handler runs, so no retry starts a second run", async () => {
    const gate = deferred();
    let runs = 0;
    const store = memoryStore({ leaseSeconds: 0.3 });
    const handler = createWebhookHandler({
      secret: SECRET,
      deadlineMs: 50,
      idempotency: { store },
      on: {
        "job.completed": async () => {
          runs++;
          await gate.promise;
        },
      },
    });
    const event = jobCompletedEvent();
    expect((await handler.handle(await delivery(event))).status).toBe(503);
    // Well past three leases: without renewal the claim would have lapsed.
    await sleep(1000);
    expect((await handler.handle(await delivery(event))).status).toBe(409);
    gate.resolve();
    await sleep(20);
    expect((await handler.handle(await delivery(event))).outcome).toBe("duplicate");
    expect(runs).toBe(1);
  });

  it("frees the claim when the handler fails after the deadline, and tells onError", async () => {
    const gate = deferred();
    const errors: Array<[string, number]> = [];
    let runs = 0;
    const handler = createWebhookHandler({
      secret: SECRET,
      deadlineMs: 50,
      onError: (error, context) => void errors.push([error.code, context.status]),
      on: {
        "job.completed": async () => {
          runs++;
          if (runs === 1) await gate.promise;
        },
      },
    });
    const event = jobCompletedEvent();
    expect((await handler.handle(await delivery(event))).status).toBe(503);
    gate.reject(new Error("the slow call failed"));
    await sleep(20);
    expect(errors).toEqual([
      ["handler_timeout", 503],
      ["handler_failed", 503],
    ]);
    const retry = await handler.handle(await delivery(event));
    expect([retry.status, retry.outcome]).toEqual([200, "handled"]);
    expect(runs).toBe(2);
  });

  it("applies without deduplication too, and leaves synchronous handlers alone", async () => {
    const handler = createWebhookHandler({
      secret: SECRET,
      deadlineMs: 30,
      idempotency: false,
      on: { "job.completed": () => new Promise(() => {}) },
    });
    expect((await handler.handle(await delivery())).status).toBe(503);
    const quick = createWebhookHandler({
      secret: SECRET,
      deadlineMs: 1,
      on: { "job.completed": () => {} },
    });
    expect((await quick.handle(await delivery())).status).toBe(200);
  });

  it("reports a lease it could not renew", async () => {
    const gate = deferred();
    const inner = memoryStore({ leaseSeconds: 0.15 });
    const store: IdempotencyStore = {
      leaseSeconds: 0.15,
      claim: (key) => inner.claim(key),
      markDone: (lease) => inner.markDone(lease),
      release: (lease) => inner.release(lease),
      extend: () => Promise.reject(new Error("redis is gone")),
    };
    const codes: string[] = [];
    const handler = createWebhookHandler({
      secret: SECRET,
      idempotency: { store },
      onError: (error) => void codes.push(error.code),
      on: { "job.completed": () => gate.promise },
    });
    const answer = handler.handle(await delivery());
    await sleep(200);
    gate.resolve();
    expect((await answer).status).toBe(200);
    expect(codes).toContain("idempotency_store_unavailable");
  });

  it.each([0, -1, 1.5, "25000", 2 ** 31])("refuses deadlineMs = %s", (deadlineMs) => {
    expect(() =>
      createWebhookHandler({ secret: SECRET, deadlineMs: deadlineMs as number }),
    ).toThrow(WebhookConfigError);
  });
});

describe("event ids from bodies that are not valid UTF-8", () => {
  it("refuses a signed body with invalid UTF-8 inside a JSON string as invalid_payload", async () => {
    // Two different byte sequences that a lossy decoder turns into the same id "evt_\uFFFD".
    const bodies = [0xff, 0xfe].map((byte) =>
      Buffer.concat([
        Buffer.from('{"id":"evt_'),
        Buffer.from([byte]),
        Buffer.from('","type":"job.completed","api_version":"x","created_at":"x","data":{}}'),
      ]),
    );
    const verifier = new WebhookVerifier({ secret: SECRET });
    for (const body of bodies) {
      const signed = await signPayload({ secret: SECRET, payload: new Uint8Array(body) });
      const outcome = await verifier
        .verify({ payload: body, signature: signed.signature, timestamp: signed.timestamp })
        .then(
          () => "ok",
          (error: { code: string }) => error.code,
        );
      expect(outcome).toBe("invalid_payload");
    }
  });
});
