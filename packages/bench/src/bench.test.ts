import { describe, expect, it } from "vitest";
import { CORE_WORKER } from "./bundle.js";
import { checkTargets, formatComparisons, renderMarkdown, slowerRoundsNeeded } from "./report.js";
import { runBench } from "./run.js";
import { CORE_NODE, CORE_WEB, FLOOR_NODE, FLOOR_WEB } from "./runtimes/index.js";
import {
  CORE_HANDLE,
  CORE_HANDLE_COMBINED,
  CORE_HANDLE_ON_DELIVERY,
  CORE_HANDLE_OTEL,
  CORE_VERIFY,
  CORE_VERIFY_COMBINED,
  CORE_VERIFY_SYNC,
  FLOOR,
  FLOOR_RECORDING,
} from "./verification.js";

// The smoke run keeps the bench from rotting: every case still runs and every verification is
// still checked, with counts too small for any timing to mean anything (none is asserted).
describe("pnpm bench, smoke mode", () => {
  it("runs every part and reports every row", async () => {
    const lines: string[] = [];
    const results = await runBench({ smoke: true, log: (line) => lines.push(line) });

    expect(results.meta.smoke).toBe(true);
    expect(results.verification?.map((size) => size.bytes)).toEqual([256, 4096, 65536, 1048576]);
    for (const size of results.verification ?? []) {
      expect(size.rows.map((row) => row.name)).toEqual(
        expect.arrayContaining([
          FLOOR,
          CORE_VERIFY,
          CORE_VERIFY_COMBINED,
          CORE_VERIFY_SYNC,
          "svix",
          "standardwebhooks",
          "stripe constructEvent",
          "stripe constructEventAsync",
          "@octokit/webhooks-methods verify",
        ]),
      );
      for (const row of size.rows) expect(row.opsPerSec).toBeGreaterThan(0);
    }
    for (const size of results.handle ?? []) {
      expect(size.rows.map((row) => row.name)).toEqual([
        FLOOR_RECORDING,
        CORE_HANDLE,
        CORE_HANDLE_COMBINED,
        CORE_HANDLE_ON_DELIVERY,
        CORE_HANDLE_OTEL,
      ]);
    }
    expect(results.handle).toHaveLength(4);

    expect(results.http?.length).toBeGreaterThan(0);
    for (const framework of results.http ?? []) {
      // An adapter that is in the checkout must run; only a missing one may be skipped.
      expect(framework.status).not.toBe("failed");
      if (framework.status !== "measured") {
        // A skip must say why, in the output as in the report.
        expect(framework.reason).not.toBe("");
        expect(lines.some((line) => line.includes(`${framework.label}: SKIPPED`))).toBe(true);
      } else {
        for (const run of [...framework.floor.runs, ...framework.adapterResult.runs]) {
          expect(run.responses2xx).toBeGreaterThan(0);
          expect(run.handled).toBeGreaterThanOrEqual(run.responses2xx);
        }
      }
    }
    expect(results.http?.find((framework) => framework.name === "express")?.status).toBe(
      "measured",
    );
    for (const name of ["hono", "fastify", "koa"]) {
      expect(results.http?.find((framework) => framework.name === name)?.status).toBe("measured");
    }

    // Every runtime serves the harness; one that cannot be installed or run fails the test.
    expect(results.runtimes?.map((runtime) => [runtime.id, runtime.status])).toEqual([
      ["node", "measured"],
      ["bun", "measured"],
      ["deno", "measured"],
      ["workerd", "measured"],
    ]);
    for (const runtime of results.runtimes ?? []) {
      if (runtime.status !== "measured") continue;
      expect(runtime.sizes.map((size) => size.bytes)).toEqual([256, 4096, 65536, 1048576]);
      for (const size of runtime.sizes) {
        expect(size.rows.map((row) => row.name)).toEqual(
          expect.arrayContaining([FLOOR_WEB, FLOOR_NODE, CORE_WEB, CORE_NODE]),
        );
        for (const row of size.rows) expect(row.opsPerSec).toBeGreaterThan(0);
      }
      expect(runtime.decode.length).toBeGreaterThanOrEqual(4);
    }
    expect(results.bundle?.rows.map((row) => row.name)).toEqual([
      CORE_WORKER,
      "svix",
      "standardwebhooks",
      "stripe",
      "@octokit/webhooks-methods",
    ]);

    expect(results.memory?.withinBound).toBe(true);
    expect(results.memory?.storeSizeAfter).toBe(results.memory?.maxEntries);

    // Both header formats at every size, for verify() and handle(); one smoke round decides nothing.
    const comparisons = formatComparisons(results);
    expect(comparisons.map((entry) => `${entry.part} ${entry.size}`)).toEqual(
      ["verification", "handle"].flatMap((part) =>
        ["256 B", "4 KiB", "64 KiB", "1 MiB"].map((size) => `${part} ${size}`),
      ),
    );
    for (const entry of comparisons) expect(entry.measurablySlower).toBeUndefined();

    const markdown = renderMarkdown(results);
    expect(markdown).toContain("Smoke run");
    expect(markdown).toContain("## Kallima-Signature against the X-Kallima-* pair");
    expect(markdown).toContain("## Observability overhead");
    for (const heading of [
      "## 1. Verification",
      "## 2. `handle()`",
      "## 3. Adapters",
      "## 4. Memory",
      "## 5. Queue mode",
      "## 6. Verification on other runtimes",
      "### Bytes → event at 1 MiB",
      "## 7. Edge bundle",
    ]) {
      expect(markdown).toContain(heading);
    }
    const targets = checkTargets(results).map((check) => check.target);
    for (const expected of [
      "`verify()` ≥ 0.95× the floor",
      "`verifySync()`",
      "`handle()` ≥ 0.90× a floor that also records the id",
      "every adapter",
      "Hono on @hono/node-server ≥ 0.95×",
      "Bun: verify()",
      "Deno: verify()",
      "workerd: verify()",
      "export condition picks",
      "bytes → event at 1 MiB",
      "edge bundle",
      "heap after",
    ]) {
      expect(
        targets.some((target) => target.includes(expected)),
        expected,
      ).toBe(true);
    }
  }, 600_000);
});

describe("the sign test behind the Kallima-Signature verdict", () => {
  it("needs 9 slower rounds of 10, and cannot decide with too few rounds", () => {
    // P(at least 9 of 10 | a fair coin) = 11/1024; P(at least 8 of 10) = 56/1024, above 5 %.
    expect(slowerRoundsNeeded(10)).toBe(9);
    expect(slowerRoundsNeeded(5)).toBe(5);
    expect(slowerRoundsNeeded(4)).toBeUndefined();
    expect(slowerRoundsNeeded(1)).toBeUndefined();
  });
});
