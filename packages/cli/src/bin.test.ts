import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedUrl, SECRET, startEndpoint, type TestEndpoint } from "./test-support.js";

// The built executable, as npm links it: `turbo run test` builds first.
const bin = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

function run(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { env: { PATH: process.env.PATH ?? "", ...env }, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let endpoint: TestEndpoint;
let dir: string;
beforeAll(async () => {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run the build (tsup) first.`);
  endpoint = await startEndpoint();
  dir = await mkdtemp(join(tmpdir(), "kallima-cli-bin-"));
});
afterAll(async () => {
  await endpoint.close();
  await rm(dir, { recursive: true, force: true });
});

describe("the kallima-webhooks executable", () => {
  it("sends a valid delivery with the secret from the environment and exits 0", async () => {
    const result = await run(["send", endpoint.url, "--event", "job.failed"], {
      KALLIMA_WEBHOOK_SECRET: SECRET,
    });
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toMatch(/✓ 200 in/);
    // Output is not a terminal: no colour codes.
    expect(result.stdout).not.toContain("\u001b[");
    expect(endpoint.ran.at(-1)?.type).toBe("job.failed");
  });

  it.each([
    [
      "x-headers",
      { "x-kallima-signature": expect.any(String), "x-kallima-timestamp": expect.any(String) },
    ],
    [
      "kallima-signature",
      { "kallima-signature": expect.stringMatching(/^t=\d+,v1=[0-9a-f]{64}$/) },
    ],
  ])("send --format %s delivers in that format and exits 0", async (format, headers) => {
    const result = await run(["send", endpoint.url, "--format", format, "--json"], {
      KALLIMA_WEBHOOK_SECRET: SECRET,
    });
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, format });
    expect(endpoint.requests.at(-1)).toEqual(headers);
  });

  it("sign --format kallima-signature, then verify the printed value alone: valid", async () => {
    const file = join(dir, "event.json");
    await writeFile(file, '{"id":"evt_bin_1","type":"humanization.completed","data":{}}');
    const env = { KALLIMA_WEBHOOK_SECRET: SECRET };
    const signed = await run(["sign", file, "--format", "kallima-signature"], env);
    expect(signed.code).toBe(0);
    const value = /^kallima-signature: (\S+)$/m.exec(signed.stdout)![1]!;
    const verified = await run(["verify", file, "--signature", value], env);
    expect(verified).toMatchObject({
      code: 0,
      stdout: "✓ valid: humanization.completed evt_bin_1\n",
    });
    const both = await run(
      ["verify", file, "--signature", value, "--timestamp", "1", "--format", "kallima-signature"],
      env,
    );
    expect(both.code).toBe(2);
    expect(both.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("exits 2 with one line for an unknown --format", async () => {
    const result = await run(["send", endpoint.url, "--format", "kallima"], {
      KALLIMA_WEBHOOK_SECRET: SECRET,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^error: --format must be x-headers .* or kallima-signature .*, got "kallima"\.\n$/,
    );
  });

  it("colours only when asked to (FORCE_COLOR) or on a terminal", async () => {
    const result = await run(["send", endpoint.url, "--stale"], {
      KALLIMA_WEBHOOK_SECRET: SECRET,
      FORCE_COLOR: "1",
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("\u001b[32m");
  });

  it("exits 1 with one line and no stack trace when the URL is unreachable", async () => {
    const result = await run(["send", await closedUrl(), "--secret", SECRET]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/^error: Could not reach/);
  });

  it("exits 2 on a usage error and prints --help and --version", async () => {
    expect((await run(["send"])).code).toBe(2);
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("send [options] <url>");
    const version = await run(["--version"]);
    expect(version).toMatchObject({ code: 0 });
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
