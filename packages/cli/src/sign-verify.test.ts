import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, signBody, verifyBody } from "./index.js";
import { captureIO, SECRET, startEndpoint, type TestEndpoint } from "./test-support.js";

interface Vector {
  name: string;
  secrets: string[];
  headers: Record<string, string>;
  body_b64: string;
  now: number;
  expect: string;
  tolerance_seconds?: number;
}

const vectors = (
  JSON.parse(
    readFileSync(new URL("../../../../shared/test-vectors.json", import.meta.url), "utf8"),
  ) as { vectors: Vector[] }
).vectors;

function header(vector: Vector, name: string): string | undefined {
  const key = Object.keys(vector.headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : vector.headers[key];
}

let endpoint: TestEndpoint;
let dir: string;
beforeAll(async () => {
  endpoint = await startEndpoint();
  dir = await mkdtemp(join(tmpdir(), "kallima-cli-sign-"));
});
afterAll(async () => {
  await endpoint.close();
  await rm(dir, { recursive: true, force: true });
});

function parseHeaders(out: string): Record<string, string> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  for (const match of out.matchAll(/^(x-kallima-[a-z]+): (\S+)$/gm)) headers[match[1]!] = match[2]!;
  return headers;
}

describe("kallima-webhooks sign", () => {
  const signable = vectors.filter(
    (v) =>
      v.expect === "ok" &&
      v.secrets.length === 1 &&
      /^[0-9a-f]{64}$/.test(header(v, "x-kallima-signature") ?? ""),
  );

  it.each(signable.map((v) => [v.name, v] as const))(
    "reproduces the independent signature of vector %s",
    async (_name, vector) => {
      const file = join(dir, "vector.bin");
      await writeFile(file, Buffer.from(vector.body_b64, "base64"));
      const io = captureIO();
      const timestamp = header(vector, "x-kallima-timestamp")!;
      const code = await runCli(
        ["sign", file, "--secret", vector.secrets[0]!, "--timestamp", timestamp],
        io,
      );
      expect(code).toBe(0);
      expect(parseHeaders(io.out())["x-kallima-signature"]).toBe(
        header(vector, "x-kallima-signature"),
      );
    },
  );

  it("signs stdin, and the printed headers are accepted by a real endpoint", async () => {
    const body = JSON.stringify({ id: "evt_signed_stdin", type: "job.completed", data: {} });
    const io = captureIO({ stdin: body, env: { KALLIMA_WEBHOOK_SECRET: SECRET } });
    expect(await runCli(["sign", "--url", endpoint.url], io)).toBe(0);
    const out = io.out();
    expect(out).toContain(`curl -sS -X POST ${endpoint.url}`);
    expect(out).toContain(`--data-binary '${body}'`);
    const response = await fetch(endpoint.url, {
      method: "POST",
      headers: parseHeaders(out),
      body,
    });
    expect(response.status).toBe(200);
    expect(endpoint.ran.map((e) => e.id)).toContain("evt_signed_stdin");
  });

  it("prints --data-binary @file for a file, and JSON with --json", async () => {
    const file = join(dir, "it's.json");
    await writeFile(file, '{"id":"evt_1","type":"webhook.test"}\n');
    const io = captureIO();
    expect(
      await runCli(["sign", file, "--secret", SECRET, "--timestamp", "1776938400", "--json"], io),
    ).toBe(0);
    const result = JSON.parse(io.out());
    expect(result.timestamp).toBe("1776938400");
    expect(result.headers["x-kallima-signature"]).toBe(result.signature);
    // The file name holds a quote: the curl line must still be one safe shell word.
    expect(result.curl).toContain(`--data-binary '@${dir}/it'\\''s.json'`);
    const same = await signBody({
      secret: SECRET,
      body: '{"id":"evt_1","type":"webhook.test"}\n',
      timestamp: 1776938400,
    });
    expect(result.signature).toBe(same.signature);
  });

  it("without a file and with stdin on a terminal: exit 2 and says what to give", async () => {
    const io = captureIO({ env: { KALLIMA_WEBHOOK_SECRET: SECRET } });
    expect(await runCli(["sign"], io)).toBe(2);
    expect(io.err()).toContain("give a file, or pipe the body");
  });

  it("a file that does not exist: exit 2", async () => {
    const io = captureIO();
    expect(await runCli(["sign", join(dir, "nope.json"), "--secret", SECRET], io)).toBe(2);
    expect(io.err()).toContain("ENOENT");
  });
});

describe("kallima-webhooks verify", () => {
  async function signed(body: string, timestamp?: number) {
    return signBody({ secret: SECRET, body, ...(timestamp ? { timestamp } : {}) });
  }
  const body = '{"id":"evt_verify_1","type":"job.completed","data":{"id":"job_1"}}';

  it("says valid (exit 0) for an authentic, fresh body on stdin", async () => {
    const { signature, timestamp } = await signed(body);
    const io = captureIO({ stdin: body, env: { KALLIMA_WEBHOOK_SECRET: SECRET } });
    const code = await runCli(["verify", "--signature", signature, "--timestamp", timestamp], io);
    expect(code).toBe(0);
    expect(io.out()).toBe("✓ valid: job.completed evt_verify_1\n");
  });

  it.each([
    ["a tampered body", body.replace("job_1", "job_2"), 0, "invalid_signature"],
    ["a stale timestamp", body, -3600, "timestamp_too_old"],
    ["a timestamp in the future", body, 3600, "timestamp_in_future"],
  ])("gives the protocol code for %s (exit 1)", async (_what, sent, offset, code) => {
    const { signature } = await signed(body, Math.floor(Date.now() / 1000) + offset);
    const timestamp = String(Math.floor(Date.now() / 1000) + offset);
    const io = captureIO({ stdin: sent });
    const exit = await runCli(
      ["verify", "--secret", SECRET, "--signature", signature, "--timestamp", timestamp, "--json"],
      io,
    );
    expect(exit).toBe(1);
    const verdict = JSON.parse(io.out());
    expect(verdict).toMatchObject({ valid: false, code });
    expect(verdict.message).toEqual(expect.any(String));
  });

  it("--tolerance widens the window", async () => {
    const timestamp = Math.floor(Date.now() / 1000) - 3600;
    const { signature } = await signed(body, timestamp);
    const file = join(dir, "old.json");
    await writeFile(file, body);
    const args = ["verify", file, "--secret", SECRET, "--signature", signature];
    expect(await runCli([...args, "--timestamp", String(timestamp)], captureIO())).toBe(1);
    const io = captureIO();
    const code = await runCli(
      [...args, "--timestamp", String(timestamp), "--tolerance", "7200", "--json"],
      io,
    );
    expect(code).toBe(0);
    expect(JSON.parse(io.out())).toEqual({
      valid: true,
      event: { id: "evt_verify_1", type: "job.completed" },
    });
  });

  it("requires --signature and --timestamp (exit 2)", async () => {
    const io = captureIO({ stdin: body });
    expect(await runCli(["verify", "--secret", SECRET, "--timestamp", "1"], io)).toBe(2);
    expect(io.err()).toContain("--signature");
  });

  it.each(vectors.map((v) => [v.name, v] as const))(
    "verifyBody agrees with vector %s",
    async (_name, vector) => {
      const verdict = await verifyBody({
        secret: vector.secrets,
        body: Buffer.from(vector.body_b64, "base64"),
        signature: header(vector, "x-kallima-signature") ?? "",
        timestamp: header(vector, "x-kallima-timestamp") ?? "",
        now: () => vector.now * 1000,
        ...(vector.tolerance_seconds ? { toleranceSeconds: vector.tolerance_seconds } : {}),
      });
      expect(verdict.valid ? "ok" : verdict.code).toBe(vector.expect);
    },
  );
});
