import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CORE_WORKER, CORE_WORKER_BUDGET_BYTES, measureWorker, WORKERS } from "./bundle.js";
import { PACKAGE_DIR } from "./http/load.js";

// A size, not a timing: the same build gives the same bytes on every machine.
describe("the edge bundle of a Worker with the core's complete handler", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(PACKAGE_DIR, ".bundle-test-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it(`stays within ${CORE_WORKER_BUDGET_BYTES} bytes minified and gzipped`, async () => {
    const core = WORKERS.find((worker) => worker.name === CORE_WORKER)!;
    const { gzippedBytes, minifiedBytes } = await measureWorker(core.source, dir);
    expect(minifiedBytes).toBeGreaterThan(gzippedBytes);
    expect(gzippedBytes).toBeLessThanOrEqual(CORE_WORKER_BUDGET_BYTES);
  });

  it("is smaller than the Workers that verify with svix or stripe", async () => {
    const sizes = new Map<string, number>();
    for (const worker of WORKERS) {
      sizes.set(worker.name, (await measureWorker(worker.source, dir)).gzippedBytes);
    }
    expect(sizes.get(CORE_WORKER)).toBeLessThan(sizes.get("svix")!);
    expect(sizes.get(CORE_WORKER)).toBeLessThan(sizes.get("stripe")!);
  });
});
