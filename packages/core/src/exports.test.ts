import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
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

  it.each(["deno", "bun"])(
    "takes node:crypto under the %s condition (the faster of that runtime's HMACs)",
    (condition) => {
      expect(run([`--conditions=${condition}`, "--input-type=module"], engineEsm)).toBe(
        "node:crypto",
      );
      expect(run([`--conditions=${condition}`], engineCjs)).toBe("node:crypto");
    },
  );

  it.each(["workerd", "worker", "edge-light", "browser"])(
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

  it("never loads @opentelemetry from any entry but /otel", () => {
    // Static: no built file but the /otel entry names the package.
    const files = readdirSync(join(packageDir, "dist"), { recursive: true, encoding: "utf8" });
    const built = files.filter((file) => /\.(c?js)$/.test(file));
    expect(built.filter((file) => /^otel\.c?js$/.test(file))).toHaveLength(2);
    for (const file of built.filter((name) => !/^otel\.c?js$/.test(name))) {
      expect(readFileSync(join(packageDir, "dist", file), "utf8"), file).not.toContain(
        "@opentelemetry",
      );
    }
    // At run time, with the package made unresolvable: the main entry works, /otel does not load.
    const blockEsm = `import { register } from "node:module";
register("data:text/javascript," + encodeURIComponent("export async function resolve(s, c, next) { if (s.startsWith('@opentelemetry/')) throw new Error('blocked ' + s); return next(s, c); }"));
const { createWebhookHandler } = await import("@kallima/webhooks");
const records = [];
const handler = createWebhookHandler({ secret: "whsec_exports", logger: false, onDelivery: (r) => records.push(r.outcome) });
await handler.handle({ headers: {}, rawBody: "{}" });
const otel = await import("@kallima/webhooks/otel").then(() => "loaded", (error) => error.message);
console.log(records.join(), otel);`;
    expect(run(["--input-type=module"], blockEsm)).toBe("rejected blocked @opentelemetry/api");
    const blockCjs = `const Module = require("node:module");
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request.startsWith("@opentelemetry/")) throw new Error("blocked " + request);
  return resolve.call(this, request, ...rest);
};
const { createWebhookHandler } = require("@kallima/webhooks");
require("@kallima/webhooks/node"); require("@kallima/webhooks/adapter"); require("@kallima/webhooks/testing");
const records = [];
const handler = createWebhookHandler({ secret: "whsec_exports", logger: false, onDelivery: (r) => records.push(r.outcome) });
handler.handle({ headers: {}, rawBody: "{}" }).then(() => {
  let otel = "loaded";
  try { require("@kallima/webhooks/otel"); } catch (error) { otel = error.message; }
  console.log(records.join(), otel);
});`;
    expect(run([], blockCjs)).toBe("rejected blocked @opentelemetry/api");
  });

  it("loads /otel from ESM and CJS", () => {
    const esm = `import { otelInstrumentation, SPAN_NAMES } from "@kallima/webhooks/otel";
console.log(typeof otelInstrumentation().startDelivery, SPAN_NAMES.delivery);`;
    const cjs = `const { otelInstrumentation, SPAN_NAMES } = require("@kallima/webhooks/otel");
console.log(typeof otelInstrumentation().startDelivery, SPAN_NAMES.delivery);`;
    expect(run(["--input-type=module"], esm)).toBe("function kallima.webhook.delivery");
    expect(run([], cjs)).toBe("function kallima.webhook.delivery");
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
    for (const entry of ["index.js", "testing.js", "otel.js", "crypto/web.js"])
      visit(join(packageDir, "dist", entry));
    expect(seen.size).toBeGreaterThan(3);
  });
});
