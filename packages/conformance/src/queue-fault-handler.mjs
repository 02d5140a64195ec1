// The handler a queue test process (see queue-process.ts) runs for job.completed. Plain
// JavaScript, because those processes run under the current `node` without a TypeScript loader.
// Every run appends {eventId, attempt, pid} to `log`: the tests' oracle. The event's data says
// how the handler behaves:
//   { mode: "crash" }       kills this process (SIGKILL) mid-handler on attempt 1;
//   { mode: "fail-twice" }  throws on attempts 1 and 2;
//   { mode: "poison" }      always throws, unless `fixed`;
//   { delayMs }             holds the handler open that long.
import { appendFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/** @param {{ log: string, fixed: boolean }} options */
export function faultInjectingHandler({ log, fixed }) {
  return async (event, { attempt }) => {
    appendFileSync(log, `${JSON.stringify({ eventId: event.id, attempt, pid: process.pid })}\n`);
    const { mode, delayMs } = event.data;
    if (mode === "crash" && attempt === 1) process.kill(process.pid, "SIGKILL");
    if (mode === "fail-twice" && attempt < 3) throw new Error(`fails on attempt ${attempt}`);
    if (mode === "poison" && !fixed) throw new Error("poison event");
    if (delayMs) await sleep(delayMs);
  };
}
