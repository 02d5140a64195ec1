import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { eventually, queuedDelivery } from "@kallima/webhooks-conformance/queue-driver";
import { describe, expect, it } from "vitest";
import {
  createKallimaWorker,
  createWebhookHandler,
  type HandlerFailedError,
  type WorkerFailureContext,
  type WorkerJobContext,
} from "./index.js";
import { memoryQueue } from "./queue.js";
import { jobCompletedEvent, jobFailedEvent, signPayload } from "./testing.js";

const SECRET = "whsec_workerTestSecret0000000000000000000";
const quick = { initialMs: 20, maxMs: 40 };

describe("createKallimaWorker", () => {
  it("runs typed handlers from on and .on() with the event and its attempt, behind a receiver", async () => {
    const queue = memoryQueue();
    const receiver = createWebhookHandler({ secret: SECRET, queue });
    const seen: Array<[string, string, number, string]> = [];
    const worker = createKallimaWorker({
      queue,
      shutdownSignals: false,
      on: {
        "job.completed": (event, context: WorkerJobContext) =>
          void seen.push([event.type, event.data.id, context.attempt, context.event.id]),
      },
    }).on("job.failed", (event, { attempt }) => {
      seen.push([event.type, event.data.error_message ?? "", attempt, event.id]);
    });
    const completed = jobCompletedEvent({ data: { id: "job_w" } });
    const failed = jobFailedEvent();
    for (const payload of [completed, failed, completed]) {
      const signed = await signPayload({ secret: SECRET, payload });
      await receiver.handle({ headers: signed.headers, rawBody: signed.body });
    }
    await eventually(async () => (await queue.stats()).done === 2);
    expect(seen).toEqual([
      ["job.completed", "job_w", 1, completed.id],
      ["job.failed", "GPU ran out of memory", 1, failed.id],
    ]);
    await worker.close();
  });

  it("retries with backoff (done on attempt 3), dead-letters an always failing event with its error", async () => {
    const queue = memoryQueue();
    const failures: Array<[number, boolean, string]> = [];
    const attempts: Record<string, number[]> = {};
    const note = (id: string, attempt: number) => {
      attempts[id] = [...(attempts[id] ?? []), attempt];
    };
    const flaky = queuedDelivery("job.completed");
    const poison = queuedDelivery("job.failed");
    const worker = createKallimaWorker({
      queue,
      attempts: 3,
      backoff: quick,
      logger: false,
      shutdownSignals: false,
      onError: (error: HandlerFailedError, context: WorkerFailureContext) =>
        void failures.push([context.attempt, context.deadLettered, error.code]),
      on: {
        "job.completed": (event, { attempt }) => {
          note(event.id, attempt);
          if (attempt < 3) throw new Error("flaky");
        },
        "job.failed": (event, { attempt }) => {
          note(event.id, attempt);
          throw new Error("poison");
        },
      },
    });
    await queue.enqueue(flaky);
    await eventually(async () => (await queue.stats()).done === 1);
    await queue.enqueue(poison);
    await eventually(async () => (await queue.stats()).dead === 1);
    expect(attempts[flaky.eventId]).toEqual([1, 2, 3]);
    expect(attempts[poison.eventId]).toEqual([1, 2, 3]);
    expect(failures).toEqual([
      [1, false, "handler_failed"],
      [2, false, "handler_failed"],
      [1, false, "handler_failed"],
      [2, false, "handler_failed"],
      [3, true, "handler_failed"],
    ]);
    const [letter] = await queue.failed();
    expect(letter?.lastError).toContain("poison");
    await worker.close();
  });

  it("acknowledges events with no handler, or hands them to onUnhandled", async () => {
    const queue = memoryQueue();
    const unhandled: string[] = [];
    const worker = createKallimaWorker({
      queue,
      shutdownSignals: false,
      onUnhandled: (event) => void unhandled.push(event.type),
    });
    await queue.enqueue(queuedDelivery("model.created"));
    await eventually(async () => (await queue.stats()).done === 1);
    expect(unhandled).toEqual(["model.created"]);
    await worker.close();
    const bare = memoryQueue();
    const idle = createKallimaWorker({ queue: bare, shutdownSignals: false });
    await bare.enqueue(queuedDelivery("job.completed"));
    await eventually(async () => (await bare.stats()).done === 1);
    await idle.close();
  });

  it("refuses bad options at construction", () => {
    const queue = memoryQueue();
    expect(() => createKallimaWorker({ queue: {} as never })).toThrow(/queue driver/);
    expect(() => createKallimaWorker({ queue, concurrency: 0 })).toThrow(/concurrency/);
    expect(() => createKallimaWorker({ queue, attempts: 1.5 })).toThrow(/attempts/);
    expect(() =>
      // @ts-expect-error: not an event type
      createKallimaWorker({ queue, on: { "job.complete": () => {} }, shutdownSignals: false }),
    ).not.toThrow();
  });

  it("on SIGTERM finishes the job in flight, records it, then exits", async () => {
    const script = fileURLToPath(new URL("./test-support/worker-process.mjs", import.meta.url));
    const child = spawn(process.execPath, [script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    await eventually(() => output.includes("started"), 20_000);
    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    expect(code).toBe(0);
    expect(output).toContain("finished");
    expect(output).toContain('"state":"done"');
  }, 30_000);
});
