import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../examples/delivery-log.js";

// The README's delivery-log example, run as written (against the built package).
describe("examples/delivery-log.ts", () => {
  it("stores one record per delivery and answers the operator's questions from them", async () => {
    const file = join(await mkdtemp(join(tmpdir(), "kallima-example-")), "deliveries.jsonl");
    const summary = await main(file);
    expect(summary).toMatchObject({
      deliveries: 4,
      failures: { timestamp_too_old: 1 },
      duplicates: 1,
      lastUseOfSecret: { 0: expect.any(String), 1: expect.any(String) },
    });
    expect(summary.oldestAgeSeconds).toBeGreaterThanOrEqual(3600);
    const lines = (await readFile(file, "utf8")).trim().split("\n");
    expect(lines).toHaveLength(4);
    expect(lines.join("\n")).not.toContain("whsec_");
  });
});
