import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  buildEvent,
  CliError,
  createDelivery,
  FIXTURE_EVENT_TYPES,
  runCli,
  sendDelivery,
  sendEvent,
} from "./index.js";
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
  endpoint.requests.length = 0;
});

async function send(
  args: string[],
  env: Record<string, string> = { KALLIMA_WEBHOOK_SECRET: SECRET },
) {
  const io = captureIO({ env });
  const code = await runCli(["send", endpoint.url, ...args], io);
  return { code, out: io.out(), err: io.err() };
}

// What each fixture's data must look like: Kallima's job object for job.*, the product
// resource (with results, or a problem+json error) for the product events.
const FIXTURE_DATA: Record<(typeof FIXTURE_EVENT_TYPES)[number], Record<string, unknown>> = {
  "job.completed": {
    id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    status: "completed",
    error_message: null,
  },
  "job.failed": {
    id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    status: "failed",
    error_message: expect.any(String),
  },
  "webhook.test": { webhook_id: expect.any(String) },
  "humanization.completed": {
    object: "humanization",
    status: "completed",
    results: expect.any(Object),
  },
  "humanization.failed": {
    object: "humanization",
    status: "failed",
    error: expect.objectContaining({ code: expect.any(String) }),
  },
  "structure_prediction.completed": {
    object: "structure_prediction",
    status: "completed",
    results: expect.any(Object),
  },
  "structure_prediction.failed": {
    object: "structure_prediction",
    status: "failed",
    error: expect.objectContaining({ code: expect.any(String) }),
  },
};

describe("kallima-webhooks send, against a real server running core's handler", () => {
  it.each(FIXTURE_EVENT_TYPES.map((type) => [type]))(
    "delivers a valid %s fixture that the handler runs for",
    async (type) => {
      const result = await send(["--event", type]);
      expect(result.code, result.err).toBe(0);
      expect(result.out).toMatch(/✓ 200 in [\d.]+ ms/);
      expect(result.out).toContain('"outcome":"handled"');
      expect(endpoint.ran).toHaveLength(1);
      expect(endpoint.ran[0]!.type).toBe(type);
      expect(endpoint.ran[0]!.data).toMatchObject(FIXTURE_DATA[type]);
    },
  );

  it("job.failed carries the job object's error_message, not an error object", async () => {
    expect(buildEvent("job.failed").data).not.toHaveProperty("error");
    const result = await send(["--event", "job.failed", "--data", '{"error_message":"timeout"}']);
    expect(result.code).toBe(0);
    expect(endpoint.ran[0]!.data).toMatchObject({ status: "failed", error_message: "timeout" });
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
    const result = await send(["--event", "antibody_design.completed", "--data", '{"id":"abd_1"}']);
    expect(result.code).toBe(0);
    expect(result.out).toContain('"outcome":"unhandled"');
    expect(endpoint.ran).toEqual([]);
  });

  it("signs in the X-Kallima-* pair by default, and says so", async () => {
    const result = await send([]);
    expect(result.code).toBe(0);
    expect(result.out).toContain("(X-Kallima-Signature + X-Kallima-Timestamp)");
    expect(endpoint.requests).toEqual([
      {
        "x-kallima-signature": expect.stringMatching(/^[0-9a-f]{64}$/),
        "x-kallima-timestamp": expect.stringMatching(/^\d+$/),
      },
    ]);
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

describe("kallima-webhooks send --format kallima-signature", () => {
  it("sends one Kallima-Signature: t=…,v1=… header, which the endpoint verifies", async () => {
    const result = await send(["--format", "kallima-signature", "--event", "job.failed"]);
    expect(result.code, result.err).toBe(0);
    expect(result.out).toContain("(Kallima-Signature: t=…,v1=…)");
    expect(result.out).toMatch(/✓ 200 in/);
    expect(endpoint.requests).toEqual([
      { "kallima-signature": expect.stringMatching(/^t=\d+,v1=[0-9a-f]{64}$/) },
    ]);
    expect(endpoint.ran).toEqual([expect.objectContaining({ type: "job.failed" })]);
  });

  it.each(
    FIXTURE_EVENT_TYPES.filter((type) => !type.startsWith("job.") && type !== "webhook.test"),
  )("delivers the %s product fixture in that format", async (type) => {
    const result = await send(["--format", "kallima-signature", "--event", type]);
    expect(result.code, result.err).toBe(0);
    expect(endpoint.ran[0]).toMatchObject({ type, data: FIXTURE_DATA[type] });
  });

  it.each([
    ["--stale", "timestamp_too_old"],
    ["--tamper", "invalid_signature"],
    ["--wrong-secret", "invalid_signature"],
  ])("%s: refused with 401 (%s), the expected answer", async (flag, code) => {
    const result = await send(["--format", "kallima-signature", flag, "--json"]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.out);
    expect(report).toMatchObject({ ok: true, format: "kallima-signature", expected: "rejected" });
    const answer = JSON.parse(report.deliveries[0].body);
    expect(answer.error.code).toBe(code);
    // The endpoint read the combined header, not a missing X-Kallima-Signature.
    if (code === "invalid_signature") expect(answer.error.message).toContain("Kallima-Signature");
    expect(endpoint.requests[0]).toEqual({ "kallima-signature": expect.any(String) });
    expect(endpoint.ran).toEqual([]);
  });

  it("--timestamp goes in the t= item", async () => {
    const result = await send(["--format", "kallima-signature", "--timestamp", "1776938400"]);
    expect(result.code).toBe(1);
    expect(endpoint.requests[0]!["kallima-signature"]).toMatch(/^t=1776938400,v1=/);
    expect(result.out).toContain("timestamp_too_old");
  });

  it("--repeat re-delivers the same event id in that format: the handler runs once", async () => {
    const result = await send(["--format", "kallima-signature", "--repeat", "2", "--json"]);
    const report = JSON.parse(result.out);
    expect(result.code).toBe(0);
    expect(report.deliveries.map((d: { body: string }) => JSON.parse(d.body).outcome)).toEqual([
      "handled",
      "duplicate",
    ]);
    expect(endpoint.ran).toHaveLength(1);
  });

  it("--json of the default format says x-headers", async () => {
    const result = await send(["--json"]);
    expect(JSON.parse(result.out)).toMatchObject({ ok: true, format: "x-headers" });
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
    [["--format"]],
    [["--format", "v1"]],
  ])("rejects %j with exit 2", async (args) => {
    const result = await fails(["send", endpoint.url, "--secret", SECRET, ...args]);
    expect(result.code).toBe(2);
    expect(result.err).not.toBe("");
    expect(endpoint.ran).toEqual([]);
  });

  it("an unknown --format names both formats", async () => {
    const result = await fails(["send", endpoint.url, "--secret", SECRET, "--format", "stripe"]);
    expect(result.code).toBe(2);
    expect(result.err).toBe(
      'error: --format must be x-headers (X-Kallima-Signature + X-Kallima-Timestamp) or kallima-signature (Kallima-Signature: t=…,v1=…), got "stripe".\n',
    );
    expect(result.out).toBe("");
  });

  it("--help for every command exits 0", async () => {
    for (const command of [[], ["send"], ["sign"], ["verify"]]) {
      const io = captureIO();
      expect(await runCli([...command, "--help"], io)).toBe(0);
      expect(io.out()).toContain("Usage: kallima-webhooks");
      if (command.length > 0) expect(io.out()).toContain("--format <format>");
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

  it("createDelivery signs in the Kallima-Signature format on request, the same HMAC", async () => {
    const event = buildEvent("webhook.test");
    const pair = await createDelivery({ secret: SECRET, event, timestamp: 1776938400 });
    const combined = await createDelivery({
      secret: SECRET,
      event,
      timestamp: 1776938400,
      format: "kallima-signature",
    });
    expect(pair.format).toBe("x-headers");
    expect(combined.format).toBe("kallima-signature");
    expect(combined.headers).toEqual({
      "content-type": "application/json",
      "kallima-signature": `t=1776938400,v1=${pair.headers["x-kallima-signature"]}`,
    });
    expect(combined.body).toBe(pair.body);
  });

  it("createDelivery and sendEvent refuse an unknown format with invalid_option", async () => {
    const event = buildEvent("webhook.test");
    const bad = "v1" as unknown as "x-headers";
    await expect(createDelivery({ secret: SECRET, event, format: bad })).rejects.toMatchObject({
      code: "invalid_option",
    });
    await expect(
      sendEvent({ url: endpoint.url, secret: SECRET, event, format: bad }),
    ).rejects.toBeInstanceOf(CliError);
    expect(endpoint.requests).toEqual([]);
  });

  it("buildEvent merges --data over the product fixtures", () => {
    const event = buildEvent("humanization.completed", {
      id: "evt_h",
      data: { results: { humanness: 0.5 } },
    });
    expect(event).toMatchObject({
      id: "evt_h",
      type: "humanization.completed",
      data: { object: "humanization", status: "completed", results: { humanness: 0.5 } },
    });
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
