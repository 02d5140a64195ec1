import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const fixtureDir = resolve(packageDir, "test/cjs");
const require = createRequire(import.meta.url);

it("works in an app compiled by tsc to CommonJS with decorator metadata, on both platforms", () => {
  execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", fixtureDir], {
    stdio: "inherit",
  });
  const output = execFileSync(process.execPath, [resolve(fixtureDir, "dist/app.cjs")], {
    cwd: packageDir,
    encoding: "utf8",
  });
  expect(JSON.parse(output)).toEqual({
    format: "cjs",
    results: {
      express: {
        statuses: [200, 401, 201, 201],
        seen: ["handler:job_express:POST", "guarded:evt_cjs_express", "standalone:evt_cjs_express"],
      },
      fastify: {
        statuses: [200, 401, 201, 201],
        seen: ["handler:job_fastify:POST", "guarded:evt_cjs_fastify", "standalone:evt_cjs_fastify"],
      },
    },
  });
  // The fixture required this package by name: its CommonJS build.
  expect(require.resolve("@kallima/webhooks-nest")).toBe(resolve(packageDir, "dist/index.cjs"));
}, 60_000);

it("loads as ESM by name, with the same exports as the CommonJS build", () => {
  const script = `
    const esm = await import("@kallima/webhooks-nest");
    const { createRequire } = await import("node:module");
    const cjs = createRequire(import.meta.url)("@kallima/webhooks-nest");
    console.log(JSON.stringify({ esm: Object.keys(esm).sort(), cjs: Object.keys(cjs).sort() }));
  `;
  const output = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: packageDir,
    encoding: "utf8",
  });
  const { esm, cjs } = JSON.parse(output) as { esm: string[]; cjs: string[] };
  expect(esm).toContain("KallimaWebhooksModule");
  expect(esm).toContain("OnKallimaEvent");
  expect(esm).toContain("KallimaWebhookGuard");
  expect(esm).toContain("kallimaWebhooks");
  expect(esm).toContain("verifyKallimaWebhook");
  expect(cjs).toEqual(esm.filter((name) => name !== "default"));
}, 30_000);
