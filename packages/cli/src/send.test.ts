import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildEvent, createDelivery, runCli, sendDelivery, sendEvent } from "./index.js";
import {
  captureIO,
  closedUrl,
  SECRET,
  startEndpoint,
  startFixedEndpoint,
  type TestEndpoint,
} from "./test-support.js";

let endpoint: TestEndpoint;
let dir: string;

beforeAll(async () => {
  endpoint = await startEndpoint();
  dir = await mkdtemp(join(tmpdir(), "kallima-cli-"));
});
afterAll(async () => {
  await endpoint.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  endpoint.ran.length = 0;
});

async function send(
  args: string[],
  env: Record<string, string> = { KALLIMA_WEBHOOK_SECRET: SECRET },
) {
  const io = captureIO({ env });
  const code = await runCli(["send", endpoint.url, ...args], io);
  return { code, out: io.out(), err: io.err() };
}

describe("kallima-webhooks send, against a real server running core's handler", () => {
  it.each([
    ["job.completed", "job_7f3c2a"],
    ["job.failed", "job_7f3c2a"],
    ["webhook.test", undefined],
  ])("delivers a valid %s that the handler runs for", async (type, jobId) => {
    const result = await send(["--event", type]);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/✓ 200 in [\d.]+ ms/);
    expect(result.out).toContain('"outcome":"handled"');
    expect(endpoint.ran).toHaveLength(1);
    expect(endpoint.ran[0]!.type).toBe(type);
    if (jobId) expect(endpoint.ran[0]!.data).toMatchObject({ id: jobId });
  });

  it("merges --data over the fixture and uses --id", async () => {
    const result = await send(["--data", '{"id":"job_42","pages":3}', "--id", "evt_custom_1"]);
    expect(result.code).toBe(0);
    expect(endpoint.ran).toEqual([
      {
        id: "evt_custom_1",
        type: "job.completed",
        data: expect.objectContaining({ id: "job_42", status: "completed", pages: 3 }),
      },
    ]);
  });

  it("reads --data from @file.json", async () => {
    const file = join(dir, "data.json");
    await writeFile(file, '{ "webhook_id": "hook_from_file" }');
    const result = await send(["--event", "webhook.test", "--data", `@${file}`]);
    expect(result.code).toBe(0);
    expect(endpoint.ran[0]!.data).toEqual({ webhook_id: "hook_from_file" });
  });

  it("sends an unknown future type: acknowledged 200, no handler ran", async () => {
    const result = await send(["--event", "humanization.completed", "--data", '{"id":"hum_1"}']);
    expect(result.code).toBe(0);
    expect(result.out).toContain('"outcome":"unhandled"');
    expect(endpoint.ran).toEqual([]);
  });

  it.each([
    ["--stale", "timestamp_too_old"],
    ["--tamper", "invalid_signature"],
    ["--wrong-secret", "invalid_signature"],
  ])(
    "%s: the endpoint refuses it with 401 (%s), which is the expected answer",
    async (flag, code) => {
      const result = await send([flag]);
      expect(result.code).toBe(0);
      expect(result.out).toMatch(/✓ 401 in/);
      expect(result.out).toContain(code);
      expect(endpoint.ran).toEqual([]);
    },
  );

  it("--repeat re-delivers the same event id: the handler runs once, every answer is 200", async () => {
    const result = await send(["--repeat", "3", "--json"]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.out);
    expect(report.ok).toBe(true);
    expect(report.expected).toBe("accepted");
    expect(report.deliveries.map((d: { status: number }) => d.status)).toEqual([200, 200, 200]);
    expect(report.deliveries.map((d: { body: string }) => JSON.parse(d.body).outcome)).toEqual([
      "handled",
      "duplicate",
      "duplicate",
    ]);
    expect(endpoint.ran).toEqual([expect.objectContaining({ id: report.event.id })]);
  });

  it("--repeat with --concurrency sends in parallel and still runs the handler once", async () => {
    const result = await send(["--repeat", "6", "--concurrency", "3", "--json"]);
    const report = JSON.parse(result.out);
    expect(result.code).toBe(0);
    expect(report.deliveries).toHaveLength(6);
    for (const delivery of report.deliveries) expect([200, 409]).toContain(delivery.status);
    expect(endpoint.ran).toHaveLength(1);
  });

  it("--timestamp signs at the given time (a year ago is refused by a correct endpoint)", async () => {
    const yearAgo = String(Math.floor(Date.now() / 1000) - 365 * 86400);
    const result = await send(["--timestamp", yearAgo, "--json"]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.out).deliveries[0].status).toBe(401);
  });
});

describe("exit code: non-zero when the answer is wrong for the kind of delivery", () => {
  it("exits 1 when an endpoint accepts a stale delivery", async () => {
    const naive = await startFixedEndpoint(200);
    try {
      const io = captureIO({ env: { KALLIMA_WEBHOOK_SECRET: SECRET } });
      expect(await runCli(["send", naive.url, "--stale"], io)).toBe(1);
      expect(io.out()).toContain("✗ 200");
      expect(io.out()).toContain("must be refused with 4xx");
    } finally {
      await naive.close();
    }
  });

  it("exits 1 when an endpoint answers a valid delivery with 500", async () => {
    const broken = await startFixedEndpoint(500);
    try {
      const io = captureIO({ env: { KALLIMA_WEBHOOK_SECRET: SECRET } });
      expect(await runCli(["send", broken.url], io)).toBe(1);
      expect(io.out()).toContain("must be answered 2xx");
    } finally {
      await broken.close();
    }
  });

  it("exits 1 when an endpoint answers a tampered delivery with 500 (Kallima would retry a forgery)", async () => {
    const broken = await startFixedEndpoint(500);
    try {
      const io = captureIO({ env: { KALLIMA_WEBHOOK_SECRET: SECRET } });
      expect(await runCli(["send", broken.url, "--tamper", "--json"], io)).toBe(1);
      expect(JSON.parse(io.out()).ok).toBe(false);
    } finally {
      await broken.close();
    }
  });
});

describe("bad input: one clear line on stderr, no stack trace", () => {
  async function fails(args: string[], env: Record<string, string> = {}) {
    const io = captureIO({ env });
    const code = await runCli(args, io);
    expect(io.err()).not.toMatch(/\n\s+at /);
    return { code, err: io.err(), out: io.out() };
  }

  it("missing secret: exit 2 and says how to give one", async () => {
    const result = await fails(["send", endpoint.url]);
    expect(result.code).toBe(2);
    expect(result.err).toContain("--secret");
    expect(result.err).toContain("KALLIMA_WEBHOOK_SECRET");
  });

  it("a secret that is not whsec_…: exit 2, and the secret is not echoed", async () => {
    const result = await fails(["send", endpoint.url, "--secret", "hunter2-not-a-secret"]);
    expect(result.code).toBe(2);
    expect(result.err).toContain("whsec_");
    expect(result.err).not.toContain("hunter2");
  });

  it("bad JSON in --data: exit 2", async () => {
    const result = await fails(["send", endpoint.url, "--secret", SECRET, "--data", "{oops"]);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/--data is not valid JSON/);
  });

  it("--data that is not an object: exit 2", async () => {
    const result = await fails(["send", endpoint.url, "--secret", SECRET, "--data", "[1,2]"]);
    expect(result.code).toBe(2);
    expect(result.err).toContain("must be a JSON object");
  });

  it("--data @file that does not exist: exit 2", async () => {
    const result = await fails([
      "send",
      endpoint.url,
      "--secret",
      SECRET,
      "--data",
      `@${join(dir, "missing.json")}`,
    ]);
    expect(result.code).toBe(2);
    expect(result.err).toContain("ENOENT");
  });

  it("unreachable URL: exit 1 and says so", async () => {
    const result = await fails(["send", await closedUrl(), "--secret", SECRET]);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/Could not reach http:\/\/127\.0\.0\.1:\d+/);
  });

  it("not a URL: exit 2", async () => {
    const result = await fails(["send", "localhost:3000", "--secret", SECRET]);
    expect(result.code).toBe(2);
    expect(result.err).toContain('"localhost:3000" is not');
    expect(result.out).toBe("");
  });

  it.each([
    [["--stale", "--timestamp", "1776938400"]],
    [["--stale", "--tamper"]],
    [["--repeat", "0"]],
    [["--repeat", "two"]],
    [["--timestamp", "2026-04-23T10:00:00Z"]],
    [["--no-such-flag"]],
  ])("rejects %j with exit 2", async (args) => {
    const result = await fails(["send", endpoint.url, "--secret", SECRET, ...args]);
    expect(result.code).toBe(2);
    expect(result.err).not.toBe("");
    expect(endpoint.ran).toEqual([]);
  });

  it("--help for every command exits 0", async () => {
    for (const command of [[], ["send"], ["sign"], ["verify"]]) {
      const io = captureIO();
      expect(await runCli([...command, "--help"], io)).toBe(0);
      expect(io.out()).toContain("Usage: kallima-webhooks");
    }
  });
});

describe("library functions", () => {
  it("sendDelivery reports status, latency, body and whether it was expected", async () => {
    const delivery = await createDelivery({ secret: SECRET, event: buildEvent("job.failed") });
    const answer = await sendDelivery(endpoint.url, delivery);
    expect(answer).toMatchObject({ status: 200, asExpected: true });
    expect(answer.latencyMs).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(answer.body)).toEqual({ received: true, outcome: "handled" });
  });

  it("a tampered delivery keeps the signature of the original bytes", async () => {
    const event = buildEvent("job.completed");
    const honest = await createDelivery({ secret: SECRET, event, timestamp: 1776938400 });
    const forged = await createDelivery({
      secret: SECRET,
      event,
      timestamp: 1776938400,
      defect: "tampered",
    });
    expect(forged.headers["x-kallima-signature"]).toBe(honest.headers["x-kallima-signature"]);
    expect(forged.body).not.toBe(honest.body);
    expect(forged.expected).toBe("rejected");
  });

  it("sendEvent calls onResponse for every attempt", async () => {
    const attempts: number[] = [];
    const report = await sendEvent({
      url: endpoint.url,
      secret: SECRET,
      event: buildEvent("webhook.test"),
      repeat: 2,
      onResponse: (attempt) => attempts.push(attempt),
    });
    expect(report.ok).toBe(true);
    expect(attempts).toEqual([1, 2]);
  });
});
