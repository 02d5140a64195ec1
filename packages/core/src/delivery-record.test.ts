import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it, vi } from "vitest";
import {
  createWebhookHandler,
  type DeliveryRecord,
  WebhookConfigError,
  type WebhookInstrumentation,
} from "./index.js";
import { handleNodeRequest } from "./node.js";
import { AttemptCounter, isoTime } from "./observe.js";
import {
  eventId,
  expectNoLeaks,
  OLD_SECRET,
  SCENARIO_NOW_MS,
  SCENARIOS,
  SECRET,
  SIGNED_AGE_SECONDS,
  signed,
} from "./test-support/deliveries.js";

const KEYS: (keyof DeliveryRecord)[] = [
  "time",
  "eventId",
  "eventType",
  "outcome",
  "status",
  "code",
  "durationMs",
  "secretIndex",
  "format",
  "ageSeconds",
  "attempt",
];

function recorder() {
  const records: DeliveryRecord[] = [];
  return { records, onDelivery: (record: DeliveryRecord) => void records.push(record) };
}

describe("onDelivery: one record per delivery", () => {
  it.each(SCENARIOS)("$name", async (scenario) => {
    const { records, onDelivery } = recorder();
    const result = await scenario.run({ onDelivery });
    const { expected } = scenario;
    const record = records.at(-1)!;
    expect(record).toBeDefined();
    expect(result.outcome).toBe(expected.outcome);
    expect(record.outcome).toBe(expected.outcome);
    expect(record.status).toBe(expected.status);
    expect(record.status).toBe(result.status);
    expect(record.code).toBe(expected.code);
    expect(record.time).toBe(new Date(SCENARIO_NOW_MS).toISOString());
    expect(record.durationMs).toBeGreaterThanOrEqual(0);
    expect(Object.keys(record).every((key) => KEYS.includes(key as keyof DeliveryRecord))).toBe(
      true,
    );
    if (expected.verified) {
      expect(record.eventId).toBe(result.event?.id);
      expect(record.eventType).toBe("job.completed");
      expect(record.secretIndex).toBe(0);
      expect(record.format).toBe(result.format);
      expect(record.ageSeconds).toBe(SIGNED_AGE_SECONDS);
      expect(record.attempt).toBe(expected.attempt ?? 1);
    } else {
      for (const key of ["eventId", "eventType", "secretIndex", "format", "attempt"] as const) {
        expect(record[key]).toBeUndefined();
      }
    }
    // Flat and JSON-serializable, for a log line or a row.
    expect(JSON.parse(JSON.stringify(record))).toEqual(record);
    expectNoLeaks(records);
  });

  it("gives the age of a delivery refused as too old or in the future", async () => {
    const { records, onDelivery } = recorder();
    const old = SCENARIOS.find((scenario) => scenario.name === "timestamp_too_old")!;
    const future = SCENARIOS.find((scenario) => scenario.name === "timestamp_in_future")!;
    await old.run({ onDelivery });
    await future.run({ onDelivery });
    expect(records.map((record) => record.ageSeconds)).toEqual([3600, -3600]);
  });

  it("says which secret matched during a rotation", async () => {
    const { records, onDelivery } = recorder();
    const handler = createWebhookHandler({ secret: [SECRET, OLD_SECRET], onDelivery });
    await handler.handle(
      await signed({ secret: OLD_SECRET, timestamp: Math.floor(Date.now() / 1000) }),
    );
    await handler.handle(await signed({ timestamp: Math.floor(Date.now() / 1000) }));
    expect(records.map((record) => record.secretIndex)).toEqual([1, 0]);
  });

  it("counts attempts per event id in this process, every outcome included", async () => {
    const { records, onDelivery } = recorder();
    let fail = true;
    const handler = createWebhookHandler({
      secret: SECRET,
      logger: false,
      onDelivery,
      on: {
        "job.completed": () => {
          if (fail) throw new Error("down");
        },
      },
    });
    const id = eventId("retried");
    const now = () => ({ timestamp: Math.floor(Date.now() / 1000) });
    await handler.handle(await signed({ id, ...now() }));
    fail = false;
    await handler.handle(await signed({ id, ...now() }));
    await handler.handle(await signed({ id, ...now() }));
    await handler.handle(await signed({ ...now() }));
    expect(records.map((record) => [record.outcome, record.attempt])).toEqual([
      ["handler_failed", 1],
      ["handled", 2],
      ["duplicate", 3],
      ["handled", 1],
    ]);
  });

  it("writes the same ISO time as Date#toISOString, from its cache or not", () => {
    const base = Date.UTC(2026, 3, 23, 10, 0, 59);
    for (const ms of [
      base,
      base + 7,
      base + 42,
      base + 999,
      base + 1000,
      base + 1000.9,
      0,
      -1,
      -1500,
      8.64e15,
    ]) {
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
  });

  it("forgets the attempts of the id seen longest ago past 10,000 ids", () => {
    const counter = new AttemptCounter();
    expect(counter.next("evt_first")).toBe(1);
    expect(counter.next("evt_first")).toBe(2);
    for (let index = 0; index < 10_000; index++) counter.next(`evt_bulk_${index}`);
    expect(counter.next("evt_bulk_9999")).toBe(2);
    expect(counter.next("evt_first")).toBe(1);
  });

  it("records verify-only deliveries: verified (the route answers) or the rejection", async () => {
    const { records, onDelivery } = recorder();
    const handler = createWebhookHandler({
      secret: SECRET,
      logger: false,
      onDelivery,
      now: () => SCENARIO_NOW_MS,
    });
    const authentic = await signed();
    const outcome = await handler.verify(authentic);
    expect(outcome.ok).toBe(true);
    await handler.verify(authentic);
    await handler.verify(await signed({ secret: OLD_SECRET }));
    await handler.verify({ method: "PUT", ...authentic });
    expect(records).toEqual([
      expect.objectContaining({ outcome: "verified", attempt: 1, secretIndex: 0, ageSeconds: 2 }),
      expect.objectContaining({ outcome: "verified", attempt: 2 }),
      expect.objectContaining({ outcome: "rejected", status: 401, code: "invalid_signature" }),
      expect.objectContaining({ outcome: "rejected", status: 405, code: "method_not_allowed" }),
    ]);
    expect(records[0]!.status).toBeUndefined();
    expect(records[0]!.code).toBeUndefined();
  });

  it("records a handle() that rejects (a secret function that threw) as error, and rejects still", async () => {
    const { records, onDelivery } = recorder();
    const bug = new TypeError("cannot read env");
    const handler = createWebhookHandler({
      secret: () => {
        throw bug;
      },
      onDelivery,
    });
    await expect(handler.handle(await signed())).rejects.toBe(bug);
    expect(records).toEqual([expect.objectContaining({ outcome: "error" })]);
    expect(records[0]!.status).toBeUndefined();
  });

  it("contains what onDelivery throws or rejects with: the answer stays the same", async () => {
    const unhandled = vi.fn();
    process.on("unhandledRejection", unhandled);
    try {
      for (const onDelivery of [
        () => {
          throw new Error("sink down");
        },
        () => Promise.reject(new Error("sink down")),
      ]) {
        const handler = createWebhookHandler({
          secret: SECRET,
          onDelivery,
          on: { "job.completed": () => {} },
        });
        const result = await handler.handle(
          await signed({ timestamp: Math.floor(Date.now() / 1000) }),
        );
        expect([result.status, result.outcome]).toEqual([200, "handled"]);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off("unhandledRejection", unhandled);
    }
  });

  it("contains an instrumentation whose startDelivery or end throws", async () => {
    const { records, onDelivery } = recorder();
    const broken: WebhookInstrumentation[] = [
      {
        startDelivery: () => {
          throw new Error("exporter down");
        },
      },
      {
        startDelivery: () => ({
          step: (_step, run) => run(),
          end: () => {
            throw new Error("exporter down");
          },
        }),
      },
    ];
    for (const instrumentation of broken) {
      const handler = createWebhookHandler({
        secret: SECRET,
        instrumentation,
        onDelivery,
        on: { "job.completed": () => {} },
      });
      const result = await handler.handle(
        await signed({ timestamp: Math.floor(Date.now() / 1000) }),
      );
      expect(result.outcome).toBe("handled");
    }
    expect(records.map((record) => record.outcome)).toEqual(["handled", "handled"]);
  });

  it("records the 405 that handleNodeRequest answers", async () => {
    const { records, onDelivery } = recorder();
    const handler = createWebhookHandler({ secret: SECRET, onDelivery });
    const server = createServer((req, res) => void handleNodeRequest(handler, req, res));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/`, { method: "GET" });
      expect(response.status).toBe(405);
      expect(records).toEqual([
        expect.objectContaining({ outcome: "rejected", status: 405, code: "method_not_allowed" }),
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("refuses an onDelivery or instrumentation that cannot be called", () => {
    expect(() => createWebhookHandler({ secret: SECRET, onDelivery: "log" as never })).toThrow(
      WebhookConfigError,
    );
    expect(() => createWebhookHandler({ secret: SECRET, instrumentation: {} as never })).toThrow(
      /instrumentation must be an object with a startDelivery function/,
    );
  });
});
