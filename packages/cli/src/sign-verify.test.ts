import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { header, kallimaSignatureVectors, vectors } from "@kallima/webhooks-conformance/vectors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, signBody, verifyBody } from "./index.js";
import { captureIO, SECRET, startEndpoint, type TestEndpoint } from "./test-support.js";

const combinedVectors = kallimaSignatureVectors;

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
  for (const match of out.matchAll(/^((?:x-)?kallima-[a-z]+): (\S+)$/gm)) {
    headers[match[1]!] = match[2]!;
  }
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

  // The plain "t=…,v1=…" cases: the ones a signer produces (no spaces, one v1, t first).
  const combinedSignable = combinedVectors.filter(
    (v) =>
      v.expect === "ok" &&
      v.secrets.length === 1 &&
      Object.keys(v.headers).length === 1 &&
      /^t=\d+,v1=[0-9a-f]{64}$/.test(header(v, "kallima-signature") ?? ""),
  );

  it("has Kallima-Signature vectors to reproduce", () => {
    expect(combinedSignable.length).toBeGreaterThanOrEqual(2);
  });

  it.each(combinedSignable.map((v) => [v.name, v] as const))(
    "--format kallima-signature reproduces the independent header of vector %s",
    async (_name, vector) => {
      const file = join(dir, "vector.bin");
      await writeFile(file, Buffer.from(vector.body_b64, "base64"));
      const expected = header(vector, "kallima-signature")!;
      const timestamp = /^t=(\d+)/.exec(expected)![1]!;
      const io = captureIO();
      const args = ["sign", file, "--secret", vector.secrets[0]!, "--timestamp", timestamp];
      expect(await runCli([...args, "--format", "kallima-signature"], io)).toBe(0);
      const printed = parseHeaders(io.out());
      expect(printed).toEqual({
        "content-type": "application/json",
        "kallima-signature": expected,
      });
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

  it("--format kallima-signature: one header, its curl line accepted by a real endpoint", async () => {
    const body = JSON.stringify({ id: "evt_signed_combined", type: "job.completed", data: {} });
    const io = captureIO({ stdin: body, env: { KALLIMA_WEBHOOK_SECRET: SECRET } });
    expect(await runCli(["sign", "--url", endpoint.url, "--format", "kallima-signature"], io)).toBe(
      0,
    );
    const out = io.out();
    expect(out).toMatch(/^kallima-signature: t=\d+,v1=[0-9a-f]{64}\n\n/);
    expect(out).not.toContain("x-kallima");
    expect(out).toMatch(/-H 'kallima-signature: t=\d+,v1=[0-9a-f]{64}'/);
    const headers = parseHeaders(out);
    expect(Object.keys(headers)).toEqual(["content-type", "kallima-signature"]);
    const response = await fetch(endpoint.url, { method: "POST", headers, body });
    expect(response.status).toBe(200);
    expect(endpoint.ran.map((e) => e.id)).toContain("evt_signed_combined");
  });

  it("--json includes the format and headers of each format", async () => {
    const file = join(dir, "formats.json");
    await writeFile(file, '{"id":"evt_1","type":"webhook.test"}');
    const args = ["sign", file, "--secret", SECRET, "--timestamp", "1776938400", "--json"];
    const pairIO = captureIO();
    expect(await runCli(args, pairIO)).toBe(0);
    const combinedIO = captureIO();
    expect(await runCli([...args, "--format", "kallima-signature"], combinedIO)).toBe(0);
    const pair = JSON.parse(pairIO.out());
    const combined = JSON.parse(combinedIO.out());
    expect(pair.format).toBe("x-headers");
    expect(combined).toMatchObject({
      format: "kallima-signature",
      signature: pair.signature,
      timestamp: "1776938400",
      headers: {
        "content-type": "application/json",
        "kallima-signature": `t=1776938400,v1=${pair.signature}`,
      },
    });
    expect(combined.headers).not.toHaveProperty("x-kallima-signature");
    expect(combined.curl).toContain(`-H 'kallima-signature: t=1776938400,v1=${pair.signature}'`);
  });

  it("an unknown --format: exit 2, nothing printed on stdout", async () => {
    const io = captureIO({ stdin: "{}" });
    expect(await runCli(["sign", "--secret", SECRET, "--format", "X-Headers"], io)).toBe(2);
    expect(io.err()).toContain("--format must be x-headers");
    expect(io.out()).toBe("");
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

describe("kallima-webhooks verify, Kallima-Signature: t=…,v1=…", () => {
  const body = '{"id":"evt_verify_2","type":"job.failed","data":{"id":"job_2"}}';
  async function combined(sent: string, offset = 0) {
    const signed = await signBody({
      secret: SECRET,
      body: sent,
      timestamp: Math.floor(Date.now() / 1000) + offset,
      format: "kallima-signature",
    });
    return signed.headers["kallima-signature"];
  }

  it.each([
    ["with --format kallima-signature", ["--format", "kallima-signature"]],
    ["inferred from the value (no --timestamp, holds =)", []],
  ])("says valid (exit 0) %s", async (_how, extra) => {
    const value = await combined(body);
    const io = captureIO({ stdin: body, env: { KALLIMA_WEBHOOK_SECRET: SECRET } });
    expect(await runCli(["verify", "--signature", value, ...extra], io)).toBe(0);
    expect(io.out()).toBe("✓ valid: job.failed evt_verify_2\n");
    const json = captureIO({ stdin: body, env: { KALLIMA_WEBHOOK_SECRET: SECRET } });
    expect(await runCli(["verify", "--signature", value, ...extra, "--json"], json)).toBe(0);
    expect(JSON.parse(json.out())).toEqual({
      valid: true,
      format: "kallima-signature",
      event: { id: "evt_verify_2", type: "job.failed" },
    });
  });

  it.each([
    ["a tampered body", body.replace("job_2", "job_3"), 0, "invalid_signature"],
    ["a stale t=", body, -3600, "timestamp_too_old"],
    ["a t= in the future", body, 3600, "timestamp_in_future"],
  ])("gives the protocol code for %s (exit 1)", async (_what, sent, offset, code) => {
    const value = await combined(body, offset);
    const io = captureIO({ stdin: sent });
    const args = ["verify", "--secret", SECRET, "--signature", value, "--json"];
    expect(await runCli(args, io)).toBe(1);
    expect(JSON.parse(io.out())).toMatchObject({ valid: false, format: "kallima-signature", code });
  });

  it.each([
    ["no v1= item", (value: string) => value.replace(/,v1=.*/, ""), "missing_signature"],
    ["no t= item", (value: string) => value.replace(/^t=\d+,/, ""), "missing_timestamp"],
    ["two t= items", (value: string) => `t=1,${value}`, "invalid_timestamp"],
  ])("a value with %s gets %s (exit 1)", async (_what, edit, code) => {
    const value = edit(await combined(body));
    const io = captureIO({ stdin: body });
    const args = ["verify", "--secret", SECRET, "--signature", value, "--format"];
    expect(await runCli([...args, "kallima-signature", "--json"], io)).toBe(1);
    expect(JSON.parse(io.out())).toMatchObject({ valid: false, code });
  });

  it("--timestamp with --format kallima-signature is a usage error (exit 2)", async () => {
    const value = await combined(body);
    const io = captureIO({ stdin: body });
    const args = ["verify", "--secret", SECRET, "--signature", value, "--format"];
    const code = await runCli([...args, "kallima-signature", "--timestamp", "1776938400"], io);
    expect(code).toBe(2);
    expect(io.err()).toContain("--timestamp does not go with --format kallima-signature");
    expect(io.err()).not.toMatch(/\n\s+at /);
    expect(io.out()).toBe("");
  });

  it("an unknown --format is a usage error (exit 2)", async () => {
    const io = captureIO({ stdin: body });
    const args = ["verify", "--secret", SECRET, "--signature", "t=1,v1=00", "--format", "t=,v1="];
    expect(await runCli(args, io)).toBe(2);
    expect(io.err()).toContain(
      '--format must be x-headers (X-Kallima-Signature + X-Kallima-Timestamp) or kallima-signature (Kallima-Signature: t=…,v1=…), got "t=,v1=".',
    );
  });

  it("verifyBody refuses a timestamp next to a Kallima-Signature value", async () => {
    const value = await combined(body);
    await expect(
      verifyBody({
        secret: SECRET,
        body,
        signature: value,
        timestamp: "1776938400",
        format: "kallima-signature",
      }),
    ).rejects.toMatchObject({ code: "invalid_option" });
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
      format: "x-headers",
      event: { id: "evt_verify_1", type: "job.completed" },
    });
  });

  it("--json includes the format", async () => {
    const { signature, timestamp } = await signed(body);
    const io = captureIO({ stdin: body });
    const args = ["--secret", SECRET, "--signature", signature, "--timestamp", timestamp];
    expect(await runCli(["verify", ...args, "--json"], io)).toBe(0);
    expect(JSON.parse(io.out())).toEqual({
      valid: true,
      format: "x-headers",
      event: { id: "evt_verify_1", type: "job.completed" },
    });
  });

  it("requires --signature (exit 2)", async () => {
    const io = captureIO({ stdin: body });
    expect(await runCli(["verify", "--secret", SECRET, "--timestamp", "1"], io)).toBe(2);
    expect(io.err()).toContain("--signature");
  });

  it("requires --timestamp for an X-Kallima-Signature value (exit 2), and says what to give", async () => {
    const { signature } = await signed(body);
    const io = captureIO({ stdin: body });
    expect(await runCli(["verify", "--secret", SECRET, "--signature", signature], io)).toBe(2);
    expect(io.err()).toContain("--timestamp is missing");
    expect(io.err()).toContain("t=…,v1=…");
    expect(io.out()).toBe("");
    const explicit = captureIO({ stdin: body });
    const args = ["verify", "--secret", SECRET, "--signature", signature, "--format", "x-headers"];
    expect(await runCli(args, explicit)).toBe(2);
    expect(explicit.err()).toContain("--format x-headers needs --timestamp");
  });

  it.each(combinedVectors.map((v) => [v.name, v] as const))(
    "verifyBody agrees with Kallima-Signature vector %s (named and inferred format)",
    async (_name, vector) => {
      const options = {
        secret: vector.secrets,
        body: Buffer.from(vector.body_b64, "base64"),
        signature: header(vector, "kallima-signature") ?? "",
        now: () => vector.now * 1000,
        ...(vector.tolerance_seconds ? { toleranceSeconds: vector.tolerance_seconds } : {}),
      };
      const named = await verifyBody({ ...options, format: "kallima-signature" });
      expect(named.valid ? "ok" : named.code).toBe(vector.expect);
      expect(named.format).toBe("kallima-signature");
      // An empty value holds no "=": inferred as a lone X-Kallima-Signature, with the same code.
      const inferred = await verifyBody(options);
      expect(inferred.valid ? "ok" : inferred.code).toBe(vector.expect);
    },
  );

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
