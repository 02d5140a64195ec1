import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runQueueDriverSuite } from "@kallima/webhooks-conformance/queue-driver";
import { afterAll } from "vitest";
import { sqliteQueue } from "./index.js";

const dir = mkdtempSync(join(tmpdir(), "kallima-sqlite-queue-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

runQueueDriverSuite("sqliteQueue", {
  create: () => sqliteQueue({ path: join(dir, `queue-${++files}.db`), pollMs: 20 }),
});
