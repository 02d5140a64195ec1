import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./index.js";
import {
  BUILT_BIN,
  captureIO,
  type RunningDev,
  startDev,
  startIssuedSecretReceiver,
} from "./test-support.js";

// Every `endpoints` command and `trigger`, through the CLI's entry, against `kallima-webhooks
// dev` run as its own process: the CLI's client and the dev server agree on the wire. No
// scheduled retry falls due during these tests (the first is 10 minutes away), so every attempt
// seen is one a command made.

const API_KEY = "kal_test_cliAgainstDev_0123";
let dev: RunningDev;
let env: Record<string, string>;
let receiver: Awaited<ReturnType<typeof startIssuedSecretReceiver>>;

beforeAll(async () => {
  if (!existsSync(BUILT_BIN)) throw new Error(`${BUILT_BIN} is missing: run the build first.`);
  dev = await startDev(["--no-persist", "--retry-schedule", "600000", "--api-key", API_KEY]);
  env = { KALLIMA_API_KEY: API_KEY, KALLIMA_BASE_URL: dev.url, KALLIMA_DEV_URL: dev.url };
  receiver = await startIssuedSecretReceiver();
});
afterAll(async () => {
  await receiver?.close();
  expect(await dev?.stop()).toBe(0);
});

async function cli(args: string[], environment: Record<string, string> = env) {
  const io = captureIO({ env: environment });
  const code = await runCli(args, io);
  return { code, out: io.out(), err: io.err() };
}

const endpoints = (...args: string[]) => cli(["endpoints", ...args]);

async function json<T>(...args: string[]): Promise<T> {
  const result = await endpoints(...args, "--json");
  expect(result.code, result.err).toBe(0);
  return JSON.parse(result.out) as T;
}

interface Hook {
  id: string;
  url: string;
  enabled: boolean;
  events: string[] | null;
  secret?: string;
}

interface Delivery {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  response_status: number | null;
  response_body: string | null;
  attempts: number;
  delivered_at: string | null;
}

describe("kallima-webhooks endpoints against kallima-webhooks dev", () => {
  it("create, list, get, update, enable, disable", async () => {
    const created = await endpoints("create", receiver.url, "--events", "job.completed");
    expect(created.code, created.err).toBe(0);
    const secret = /signing secret: (whsec_\S+)/.exec(created.out)![1]!;
    expect(created.out.split(secret)).toHaveLength(2);
    expect(created.out).toMatch(/store it now .*not shown again/);
    const [id] = /[0-9a-f-]{36}/.exec(created.out)!;
    const other = await json<Hook>("create", `${receiver.url}?other`, "--disabled");
    expect(other).toMatchObject({ enabled: false, events: null, secret: expect.any(String) });

    const list = await endpoints("list");
    expect(list.code, list.err).toBe(0);
    expect(list.out).toMatch(/^ID\s+STATE\s+EVENTS\s+URL/);
    expect(list.out.indexOf(other.id)).toBeLessThan(list.out.indexOf(id!));
    expect(list.out).not.toContain("whsec_");
    expect((await json<Hook[]>("list")).map((hook) => hook.id)).toEqual([other.id, id]);

    const got = await endpoints("get", id!);
    expect(got.out).toContain(`${id}  ${receiver.url}`);
    expect(got.out).toContain("enabled · events: job.completed");
    expect(await json<Hook>("get", id!)).not.toHaveProperty("secret");

    const updated = await json<Hook>(
      "update",
      id!,
      "--url",
      `${receiver.url}?moved`,
      "--events",
      "job.completed,job.failed",
    );
    expect(updated).toMatchObject({
      url: `${receiver.url}?moved`,
      events: ["job.completed", "job.failed"],
    });
    expect(await json<Hook>("update", id!, "--url", receiver.url, "--all-events")).toMatchObject({
      url: receiver.url,
      events: null,
    });
    const disabled = await endpoints("disable", id!);
    expect(disabled.code, disabled.err).toBe(0);
    expect(disabled.out).toContain("disabled · events: every event type");
    expect(await json<Hook>("enable", id!)).toMatchObject({ enabled: true });
    expect((await endpoints("delete", other.id)).code).toBe(0);
  });

  it("test, rotate, deliveries, retry: a missed rotation fails, the retry with both secrets succeeds", async () => {
    const hook = await json<Hook>("create", receiver.url);
    receiver.useSecrets(hook.secret!);
    const tested = await endpoints("test", hook.id);
    expect(tested.code, tested.err).toBe(0);
    expect(tested.out).toMatch(/^✓ 200 {2}webhook\.test evt_\w+/);
    expect(tested.out).toContain("attempts 1 · delivered");
    expect(receiver.ran.at(-1)).toMatchObject({ type: "webhook.test" });

    const rotated = await endpoints("rotate", hook.id);
    expect(rotated.code, rotated.err).toBe(0);
    const secret = /signing secret: (whsec_\S+)/.exec(rotated.out)![1]!;
    expect(secret).not.toBe(hook.secret);
    expect(rotated.out).toContain("The old secret stopped working now");

    // The receiver still holds only the old secret: the dev server's signature is refused.
    const missed = await endpoints("test", hook.id);
    expect(missed.code).toBe(1);
    expect(missed.out).toMatch(/^✗ 401 {2}webhook\.test/);
    expect(missed.out).toContain("invalid_signature");
    expect(missed.out).toContain("did not accept it");
    const [missedEvent] = /evt_\w+/.exec(missed.out)!;

    const table = await endpoints("deliveries", hook.id);
    expect(table.code, table.err).toBe(0);
    const rows = table.out.trim().split("\n");
    expect(rows[0]).toMatch(/^CREATED\s+EVENT\s+EVENT ID\s+STATUS\s+ATTEMPTS\s+DELIVERED/);
    expect(rows.slice(1).map((row) => row.split(/\s+/).slice(1, 6))).toEqual([
      ["webhook.test", missedEvent, "401", "1", "no"],
      ["webhook.test", expect.stringMatching(/^evt_/), "200", "1", "yes"],
    ]);
    const [latest] = await json<Delivery[]>("deliveries", hook.id, "--limit", "1");
    expect(latest).toMatchObject({ event_id: missedEvent, webhook_id: hook.id, attempts: 1 });

    // As rotate advises: the receiver takes the new secret beside the old one; the retry lands.
    receiver.useSecrets(secret, hook.secret!);
    const retried = await endpoints("retry", latest!.id);
    expect(retried.code, retried.err).toBe(0);
    expect(retried.out).toMatch(/^✓ 200 {2}webhook\.test evt_\w+/);
    expect(retried.out).toContain(`delivery ${latest!.id} · attempts 2 · delivered`);
    expect(receiver.ran.filter((event) => event.id === missedEvent)).toHaveLength(1);
  });

  it("disable, then test and retry: exit 1 with the dev server's 409 webhook_disabled", async () => {
    const hook = await json<Hook>("create", receiver.url);
    receiver.useSecrets(hook.secret!);
    const delivery = await json<Delivery>("test", hook.id);
    await json<Hook>("disable", hook.id);
    const test = await endpoints("test", hook.id);
    expect(test.code).toBe(1);
    expect(test.err).toMatch(/^error: Webhook disabled: .* \(status 409, code webhook_disabled/);
    const retry = await cli(["endpoints", "retry", delivery.id, "--json"]);
    expect(retry.code).toBe(1);
    expect(JSON.parse(retry.out)).toEqual({
      error: expect.objectContaining({ code: "webhook_disabled", status: 409 }),
    });
  });

  it("delete, then get: exit 1 with the 404 and a hint; a wrong API key: exit 1 with the 401", async () => {
    const hook = await json<Hook>("create", receiver.url);
    const deleted = await endpoints("delete", hook.id);
    expect(deleted).toMatchObject({ code: 0, out: `✓ deleted ${hook.id}\n` });
    const gone = await endpoints("get", hook.id);
    expect(gone.code).toBe(1);
    expect(gone.err).toMatch(
      /^error: Not found: No webhook with id .* \(status 404, code not_found, request req_\w+\)/,
    );
    expect(gone.err).toContain("endpoints list");
    const locked = await cli(["endpoints", "list"], { ...env, KALLIMA_API_KEY: "kal_wrong" });
    expect(locked.code).toBe(1);
    expect(locked.err).toContain("status 401, code unauthorized");
    expect(locked.err).toContain("Check --api-key or $KALLIMA_API_KEY");
    expect(locked.err).not.toContain("kal_wrong");
  });
});

describe("kallima-webhooks trigger against kallima-webhooks dev", () => {
  it("delivers to the enabled endpoints subscribed to the type, shown by endpoints deliveries", async () => {
    for (const hook of await json<Hook[]>("list")) await endpoints("delete", hook.id);
    const failedOnly = await json<Hook>("create", receiver.url, "--events", "job.failed");
    const completedOnly = await json<Hook>("create", receiver.url, "--events", "job.completed");
    const paused = await json<Hook>("create", receiver.url, "--disabled");
    receiver.useSecrets(failedOnly.secret!, completedOnly.secret!, paused.secret!);

    const triggered = await cli(["trigger", "job.completed"]);
    expect(triggered.err).toBe("");
    expect(triggered.code).toBe(0);
    expect(triggered.out).toMatch(
      new RegExp(
        `^event job\\.completed (evt_\\S+)\\n✓ job\\.completed → webhook ${completedOnly.id}: 200 in \\d+ ms\\n$`,
      ),
    );
    const eventId = /^event job\.completed (evt_\S+)/.exec(triggered.out)![1];
    expect(receiver.ran.at(-1)).toMatchObject({ id: eventId, type: "job.completed" });
    const [delivery] = await json<Delivery[]>("deliveries", completedOnly.id);
    expect(delivery).toMatchObject({ event_id: eventId, response_status: 200, attempts: 1 });
    expect(await json<Delivery[]>("deliveries", failedOnly.id)).toEqual([]);
    expect(await json<Delivery[]>("deliveries", paused.id)).toEqual([]);

    const toPaused = await cli(["trigger", "job.completed", "--webhook", paused.id]);
    expect(toPaused.code).toBe(1);
    expect(toPaused.err).toMatch(/^error: 409 Webhook disabled \(webhook_disabled\)/);
    const noKey = await cli(["trigger", "job.completed"], { KALLIMA_DEV_URL: dev.url });
    expect(noKey.code).toBe(1);
    expect(noKey.err).toMatch(/^error: 401 Unauthorized \(unauthorized\)/);
  });
});
