import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./cli.js";
import {
  BUILT_BIN,
  captureIO,
  closedUrl,
  startDev,
  startIssuedSecretReceiver,
} from "./test-support.js";

let dir: string;
const stops: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  if (!existsSync(BUILT_BIN))
    throw new Error(`${BUILT_BIN} is missing: run the build (tsup) first.`);
  dir = await mkdtemp(join(tmpdir(), "kallima-cli-dev-"));
});
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function registerReceiver(devUrl: string) {
  const receiver = await startIssuedSecretReceiver();
  stops.push(receiver.close);
  const created = await fetch(`${devUrl}/v1/webhooks`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ url: receiver.url }),
  });
  const webhook = (await created.json()) as { id: string; secret: string };
  receiver.useSecrets(webhook.secret);
  return { receiver, webhook };
}

describe("kallima-webhooks dev and trigger", () => {
  it("serves the API, delivers triggered events built with --set and --data, and stops on SIGTERM", async () => {
    const dev = await startDev(["--no-persist", "--compress", "1000"]);
    stops.push(dev.stop);
    expect(dev.lines.join("\n")).toContain("state: in memory only");
    const { receiver, webhook } = await registerReceiver(dev.url);

    const io = captureIO();
    const code = await runCli(
      [
        "trigger",
        "job.failed",
        "--base-url",
        dev.url,
        "--data",
        '{"error":{"code":"oom"}}',
        "--set",
        "data.error.message=out of memory",
        "--set",
        "data.attempt=3",
      ],
      io,
    );
    expect(io.err()).toBe("");
    expect(code).toBe(0);
    expect(io.out()).toMatch(
      /^event job\.failed evt_\S+\n✓ job\.failed → webhook \S+: 200 in \d+ ms\n$/,
    );
    expect(io.out()).toContain(webhook.id);
    expect(receiver.ran).toHaveLength(1);
    expect(receiver.ran[0]!.data).toMatchObject({
      status: "failed",
      error: { code: "oom", message: "out of memory" },
      attempt: 3,
    });
    // The dev server prints each attempt.
    await expect
      .poll(() => dev.lines.join("\n"))
      .toMatch(/job\.failed evt_\S+ → \S+ #1: 200 in \d+ ms/);

    expect(await dev.stop()).toBe(0);
    expect(dev.lines.at(-1)).toContain("SIGTERM: stopping");
  });

  it("reports injected faults as refused and not retried, and --json prints one object", async () => {
    const dev = await startDev(["--no-persist", "--compress", "1000"]);
    stops.push(dev.stop);
    const { receiver } = await registerReceiver(dev.url);
    const io = captureIO({ env: { KALLIMA_DEV_URL: dev.url } });
    expect(await runCli(["trigger", "job.completed", "--stale"], io)).toBe(0);
    expect(io.out()).toMatch(
      /✗ job\.completed → webhook \S+: 401 in \d+ ms \(fault injected: not retried\)/,
    );
    expect(receiver.ran).toEqual([]);

    const json = captureIO({ env: { KALLIMA_DEV_URL: dev.url } });
    expect(
      await runCli(["trigger", "job.completed", "job.failed", "--out-of-order", "--json"], json),
    ).toBe(0);
    const answer = JSON.parse(json.out()) as {
      events: { id: string }[];
      deliveries: { event_id: string; response_status: number }[];
    };
    expect(answer.deliveries.map((d) => d.event_id)).toEqual([
      answer.events[1]!.id,
      answer.events[0]!.id,
    ]);
    expect(receiver.ran.map((event) => event.type)).toEqual(["job.failed", "job.completed"]);
  });

  it("keeps endpoints in its state file across restarts", async () => {
    const state = join(dir, "state.db");
    const first = await startDev(["--state", state]);
    const { webhook } = await registerReceiver(first.url);
    expect(await first.stop()).toBe(0);
    const second = await startDev(["--state", state]);
    stops.push(second.stop);
    const listed = (await (await fetch(`${second.url}/v1/webhooks`)).json()) as { id: string }[];
    expect(listed.map((item) => item.id)).toEqual([webhook.id]);
  });

  it("exits 1 with a hint when no dev server answers, and 2 on bad options", async () => {
    const io = captureIO();
    expect(await runCli(["trigger", "job.completed", "--base-url", await closedUrl()], io)).toBe(1);
    expect(io.err()).toContain("start one with `kallima-webhooks dev`");
    const bad = captureIO();
    expect(await runCli(["trigger", "job.completed", "--set", "novalue"], bad)).toBe(2);
    expect(bad.err()).toContain("--set takes path=value");
  });

  it("exits 1 when no endpoint is subscribed, and prints the dev server's problem", async () => {
    const dev = await startDev(["--no-persist"]);
    stops.push(dev.stop);
    const none = captureIO({ env: { KALLIMA_DEV_URL: dev.url } });
    expect(await runCli(["trigger", "job.completed"], none)).toBe(1);
    expect(none.err()).toContain("No delivery: no enabled endpoint is subscribed");
    const invalid = captureIO({ env: { KALLIMA_DEV_URL: dev.url } });
    expect(await runCli(["trigger", "Not A Type"], invalid)).toBe(1);
    expect(invalid.err()).toMatch(
      /^error: 422 Validation error \(validation_error\): type must be/,
    );
  });
});
