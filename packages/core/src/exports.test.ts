import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// These tests run the BUILT package (dist/) the way users load it: by name, through the
// package.json "exports" and "imports" maps, in ESM and CJS, under several runtime conditions.
const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function run(args: string[], source: string): string {
  return execFileSync(process.execPath, [...args, "-e", source], {
    cwd: packageDir,
    encoding: "utf8",
  }).trim();
}

const engineEsm = `import { WebhookVerifier } from "@kallima/webhooks";
console.log(new WebhookVerifier({ secret: "whsec_exports" }).engine);`;
const engineCjs = `const { WebhookVerifier } = require("@kallima/webhooks");
console.log(new WebhookVerifier({ secret: "whsec_exports" }).engine);`;

describe("package exports (dist)", () => {
  it("takes node:crypto on Node, from ESM and from CJS", () => {
    expect(run(["--input-type=module"], engineEsm)).toBe("node:crypto");
    expect(run([], engineCjs)).toBe("node:crypto");
  });

  it.each(["workerd", "worker", "edge-light", "browser", "deno", "bun"])(
    "takes Web Crypto under the %s condition, even where node is also a condition",
    (condition) => {
      expect(run([`--conditions=${condition}`, "--input-type=module"], engineEsm)).toBe(
        "web-crypto",
      );
      expect(run([`--conditions=${condition}`], engineCjs)).toBe("web-crypto");
    },
  );

  it("shares one copy of the error classes across subpaths in CJS and ESM", () => {
    const check = (load: string) => `${load}
const request = { readableEnded: true, headers: {} };
node.readRawBody(request).catch((error) => console.log(error instanceof core.RawBodyUnavailableError && error instanceof core.KallimaWebhookError));`;
    expect(
      run(
        [],
        check(
          `const core = require("@kallima/webhooks"); const node = require("@kallima/webhooks/node");`,
        ),
      ),
    ).toBe("true");
    expect(
      run(
        ["--input-type=module"],
        check(
          `import * as core from "@kallima/webhooks"; import * as node from "@kallima/webhooks/node";`,
        ),
      ),
    ).toBe("true");
  });

  it("signs the same bytes the same way on both engines", () => {
    const sign = `import { signPayload } from "@kallima/webhooks/testing";
signPayload({ secret: "whsec_exports", payload: "héllo", timestamp: 1 }).then((s) => console.log(s.signature));`;
    const onNode = run(["--input-type=module"], sign);
    expect(onNode).toMatch(/^[0-9a-f]{64}$/);
    expect(run(["--conditions=workerd", "--input-type=module"], sign)).toBe(onNode);
  });

  it("keeps node: modules out of everything an edge bundle can reach", () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, "utf8");
      expect(source, file).not.toMatch(/from\s*["']node:|require\(["']node:/);
      for (const [, specifier] of source.matchAll(/from\s*["'](\.[^"']+)["']/g)) {
        visit(join(dirname(file), specifier!));
      }
    };
    for (const entry of ["index.js", "testing.js", "crypto/web.js"])
      visit(join(packageDir, "dist", entry));
    expect(seen.size).toBeGreaterThan(3);
  });
});
