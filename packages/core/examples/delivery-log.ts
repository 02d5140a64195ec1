// Keeps one row per delivery in a store of your own, here an append-only JSON-lines file, and
// reads it back to answer what operators ask: how many deliveries failed and why, how old they
// were on arrival, how many duplicates came, and whether an old secret is still in use after a
// rotation. Swap the file for your database: the record is flat, one column per field.
// From the repository root, after `pnpm build`: `npx tsx packages/core/examples/delivery-log.ts`.
import { appendFile, mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createWebhookHandler, type DeliveryRecord } from "@kallima/webhooks";
import { jobCompletedEvent, signPayload } from "@kallima/webhooks/testing";

/** A delivery log in a JSON-lines file: `write` is the `onDelivery` callback. */
export function deliveryLog(file: string) {
  return {
    // Async is fine: the handler does not wait for it, and a failed write (a full disk) is
    // ignored rather than changing what Kallima is answered.
    write: (record: DeliveryRecord) => appendFile(file, `${JSON.stringify(record)}\n`),
    async read(): Promise<DeliveryRecord[]> {
      const text = await readFile(file, "utf8").catch(() => "");
      return text
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as DeliveryRecord);
    },
  };
}

/** The operator's questions, answered from the records. */
export function summarize(records: readonly DeliveryRecord[]) {
  const failures: Record<string, number> = {};
  const lastUseOfSecret: Record<number, string> = {};
  let duplicates = 0;
  let oldestAgeSeconds = 0;
  for (const record of records) {
    if (record.code) failures[record.code] = (failures[record.code] ?? 0) + 1;
    if (record.outcome === "duplicate" || record.outcome === "in_progress") duplicates += 1;
    if (record.secretIndex !== undefined) lastUseOfSecret[record.secretIndex] = record.time;
    if (record.ageSeconds !== undefined && record.ageSeconds > oldestAgeSeconds) {
      oldestAgeSeconds = record.ageSeconds;
    }
  }
  return { deliveries: records.length, failures, duplicates, oldestAgeSeconds, lastUseOfSecret };
}

/** Sends a few deliveries through a handler that logs them, and summarizes the log. */
export async function main(file: string) {
  const current = "whsec_exampleCurrentSecret00000000000000000";
  const previous = "whsec_examplePreviousSecret0000000000000000";
  const log = deliveryLog(file);
  const webhooks = createWebhookHandler({
    // During a rotation: the new secret first, the old one until it is no longer used.
    secret: [current, previous],
    logger: false,
    onDelivery: log.write,
    on: { "job.completed": () => {} },
  });

  const event = jobCompletedEvent();
  const fresh = await signPayload({ secret: current, payload: event });
  const byOldSecret = await signPayload({ secret: previous, payload: jobCompletedEvent() });
  const stale = await signPayload({
    secret: current,
    payload: jobCompletedEvent(),
    timestamp: Math.floor(Date.now() / 1000) - 3600,
  });
  for (const delivery of [fresh, fresh, byOldSecret, stale]) {
    await webhooks.handle({ headers: delivery.headers, rawBody: delivery.body });
  }
  // The writes were not awaited by the handler; give them a moment before reading back.
  await new Promise((resolve) => setTimeout(resolve, 50));
  return summarize(await log.read());
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = join(await mkdtemp(join(tmpdir(), "kallima-deliveries-")), "deliveries.jsonl");
  console.log(`records in ${file}`);
  console.log(await main(file));
}
