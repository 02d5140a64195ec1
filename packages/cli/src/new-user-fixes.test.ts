import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "./index.js";
import { captureIO, SECRET, startEndpoint, type TestEndpoint } from "./test-support.js";

// What a first-time user ran into (issue 17, "CLI fixes found when tried as a new user").

let endpoint: TestEndpoint;
beforeAll(async () => {
  endpoint = await startEndpoint();
});
afterAll(() => endpoint.close());
beforeEach(() => {
  endpoint.ran.length = 0;
  endpoint.requests.length = 0;
});

/** A server that answers every request with this status and body, counting requests. */
async function answering(status: number, body: string) {
  let requests = 0;
  const server: Server = createServer((req, res) => {
    requests++;
    req.resume();
    req.on("end", () => res.writeHead(status, { "content-type": "application/json" }).end(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/kallima-events`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function cli(
  args: string[],
  env: Record<string, string> = { KALLIMA_WEBHOOK_SECRET: SECRET },
) {
  const io = captureIO({ env });
  const code = await runCli(args, io);
  return { code, out: io.out(), err: io.err() };
}

describe("send: a defect check expects its specific answer", () => {
  it.each([
    [404, "--stale"],
    [404, "--tamper"],
    [404, "--wrong-secret"],
    [405, "--stale"],
    [404, ""],
  ])("a %i to send %s is a failure with a hint about the URL", async (status, flag) => {
    const wrongRoute = await answering(status, '{"error":"Not Found"}');
    try {
      const result = await cli(["send", wrongRoute.url, ...(flag ? [flag] : [])]);
      expect(result.code).toBe(1);
      expect(result.out).toContain(`✗ ${status}`);
      expect(result.out).toMatch(/check its path .* accepts POST/);
    } finally {
      await wrongRoute.close();
    }
  });

  it("--stale refused for another reason (invalid_signature) is a failure", async () => {
    const wrongReason = await answering(
      401,
      '{"error":{"code":"invalid_signature","message":"x"}}',
    );
    try {
      const result = await cli(["send", wrongReason.url, "--stale"]);
      expect(result.code).toBe(1);
      expect(result.out).toContain("must be refused with timestamp_too_old");
      const json = await cli(["send", wrongReason.url, "--stale", "--json"]);
      expect(JSON.parse(json.out)).toMatchObject({ ok: false });
    } finally {
      await wrongReason.close();
    }
  });

  it("a 413 or 422 naming no code is not a refusal of the defect", async () => {
    const odd = await answering(413, "{}");
    try {
      expect((await cli(["send", odd.url, "--tamper"])).code).toBe(1);
    } finally {
      await odd.close();
    }
  });

  it.each([
    ["--stale", "timestamp_too_old"],
    ["--tamper", "invalid_signature"],
    ["--wrong-secret", "invalid_signature"],
  ])(
    "%s against a real receiver: 401 %s, as expected, and the header line says so",
    async (flag, code) => {
      const result = await cli(["send", endpoint.url, flag]);
      expect(result.code).toBe(0);
      expect(result.out).toContain(`expect 401 ${code}`);
      expect(result.out).toMatch(/✓ 401 in/);
    },
  );
});

describe("send: what else a new user tripped on", () => {
  it("prints the whole answer body, however long (no cut at 200 characters)", async () => {
    const detail = `${"x".repeat(400)} THE_FIX_IS_AT_THE_END: use express.raw()`;
    const long = await answering(
      500,
      JSON.stringify({ error: { code: "raw_body_unavailable", message: detail } }),
    );
    try {
      const result = await cli(["send", long.url]);
      expect(result.code).toBe(1);
      expect(result.out).toContain("THE_FIX_IS_AT_THE_END: use express.raw()");
      expect(result.out).not.toContain("…");
    } finally {
      await long.close();
    }
  });

  it.each([
    [["send", "URL"], {}, "invalid_secret", 2],
    [["send", "URL", "--no-such-flag"], { KALLIMA_WEBHOOK_SECRET: SECRET }, "usage", 2],
    [
      ["send", "http://127.0.0.1:1/kallima-events"],
      { KALLIMA_WEBHOOK_SECRET: SECRET },
      "unreachable",
      1,
    ],
    [["sign", "--url", "nope"], { KALLIMA_WEBHOOK_SECRET: SECRET }, "invalid_option", 2],
    [["verify", "--signature", "x"], {}, "invalid_option", 2],
  ])("with --json, an error is one JSON object on stdout: %j", async (args, env, code, exit) => {
    const argv = [...args.map((arg) => (arg === "URL" ? endpoint.url : arg)), "--json"];
    const result = await cli(argv, env as Record<string, string>);
    expect(result.code).toBe(exit);
    expect(JSON.parse(result.out)).toEqual({ error: { code, message: expect.any(String) } });
    expect(result.err).toBe("");
  });

  it('--event "" is a usage error: exit 2, nothing sent', async () => {
    const result = await cli(["send", endpoint.url, "--event", ""]);
    expect(result.code).toBe(2);
    expect(result.err).toContain("event type must not be empty");
    expect(endpoint.requests).toEqual([]);
  });

  it('--id "" is a usage error, not silently replaced', async () => {
    const result = await cli(["send", endpoint.url, "--id", ""]);
    expect(result.code).toBe(2);
    expect(result.err).toContain("event id must not be empty");
    expect(endpoint.requests).toEqual([]);
  });

  it("--secret abc errors before any request line is printed", async () => {
    const result = await cli(["send", endpoint.url, "--secret", "abc"], {});
    expect(result.code).toBe(2);
    expect(result.out).toBe("");
    expect(result.err).toContain("whsec_");
    expect(endpoint.requests).toEqual([]);
  });

  it.each([["nope"], ["ftp://example.com/x"]])("sign --url %s is refused: exit 2", async (url) => {
    const io = captureIO({ stdin: "{}", env: { KALLIMA_WEBHOOK_SECRET: SECRET } });
    expect(await runCli(["sign", "--url", url], io)).toBe(2);
    expect(io.err()).toContain(`"${url}" is not`);
    expect(io.out()).toBe("");
  });

  it("--data merges deeply: the fixture's error.code survives a new error.detail", async () => {
    const result = await cli([
      "send",
      endpoint.url,
      "--event",
      "humanization.failed",
      "--data",
      '{"error":{"detail":"custom detail"},"results":null}',
    ]);
    expect(result.code, result.err).toBe(0);
    expect(endpoint.ran[0]!.data).toMatchObject({
      object: "humanization",
      status: "failed",
      error: { code: "pipeline_failed", title: "Pipeline failed", detail: "custom detail" },
    });
  });

  it("--data on job.failed adds an error object beside the fixture's fields, arrays replace", async () => {
    const result = await cli([
      "send",
      endpoint.url,
      "--event",
      "job.failed",
      "--data",
      '{"error":{"code":"oom","message":"GPU"},"tags":["a"]}',
    ]);
    expect(result.code, result.err).toBe(0);
    expect(endpoint.ran[0]!.data).toMatchObject({
      status: "failed",
      error_message: expect.any(String),
      error: { code: "oom", message: "GPU" },
      tags: ["a"],
    });
  });
});
