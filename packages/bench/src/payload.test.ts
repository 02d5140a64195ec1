import { describe, expect, it } from "vitest";
import { measure } from "./measure.js";
import { eventBody, floorVerify, KALLIMA_SECRET, kallimaDelivery, SIZES } from "./payload.js";

describe("bench payloads and floor", () => {
  it("builds envelopes of exactly each size that parse as Kallima events", () => {
    for (const { bytes } of SIZES) {
      const body = eventBody(bytes, `evt_${bytes}`);
      expect(body.byteLength).toBe(bytes);
      expect(JSON.parse(body.toString("utf8"))).toMatchObject({
        id: `evt_${bytes}`,
        type: "job.completed",
      });
    }
  });

  it("has a floor that accepts a valid delivery and rejects a tampered one", () => {
    const delivery = kallimaDelivery(256, "evt_floor");
    const { timestamp, signature, body } = delivery;
    expect(floorVerify(KALLIMA_SECRET, timestamp, signature, body).id).toBe("evt_floor");
    const tampered = Buffer.from(body);
    tampered[tampered.length - 3]! ^= 1;
    expect(() => floorVerify(KALLIMA_SECRET, timestamp, signature, tampered)).toThrow(
      "bad signature",
    );
    expect(() => floorVerify(KALLIMA_SECRET, "1000", signature, body)).toThrow("stale timestamp");
  });
});

describe("measure", () => {
  const settings = { timeMs: 5, warmupMs: 0, minSamples: 2, rounds: 1 };

  it("stops on an operation whose check fails, so that failures never count as work", async () => {
    await expect(
      measure(
        [
          {
            name: "always wrong",
            run: () => 1,
            check: () => {
              throw new Error("not verified");
            },
          },
        ],
        1,
        settings,
      ),
    ).rejects.toThrow('"always wrong" failed its first, untimed operation.');
  });

  it("checks every timed operation, not only the first", async () => {
    let calls = 0;
    await expect(
      measure(
        [
          {
            name: "fails later",
            run: async () => ++calls,
            check: (value) => {
              if ((value as number) > 3) throw new Error("stopped verifying");
            },
            async: true,
          },
        ],
        2,
        settings,
      ),
    ).rejects.toThrow();
  });

  it("reports a positive median for each case", async () => {
    const [row] = await measure([{ name: "sum", run: () => 1 + 1, check: () => {} }], 4, settings);
    expect(row?.opsPerSec).toBeGreaterThan(0);
    expect(row?.rounds).toHaveLength(1);
  });
});
