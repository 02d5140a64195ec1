import { execFileSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// These tests load the BUILT package (dist/, run `tsup` first) by name, through its "exports"
// map, the way users load it.
const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function node(args: string[], source: string): string {
  return execFileSync(process.execPath, [...args, "-e", source], {
    cwd: packageDir,
    encoding: "utf8",
  }).trim();
}

// Registers the plugin in a real app and injects an unsigned POST and a PUT: proves the module
// loads, shares the core's classes and functions, answers with the core's mapping, and that the
// ./testing subpath is the core's.
const probe = (load: string) => `${load}
(async () => {
  const app = fastify();
  await app.register(adapter.kallimaWebhooks, { path: "/k", secret: "whsec_distProbe", logger: false });
  const posted = await app.inject({ method: "POST", url: "/k", payload: "{}" });
  const put = await app.inject({ method: "PUT", url: "/k" });
  let configError = false;
  try { adapter.verifyKallimaWebhook({ secret: "" }); } catch (error) { configError = error instanceof core.WebhookConfigError; }
  console.log(JSON.stringify([
    posted.statusCode, posted.json().error.code,
    put.statusCode, put.headers.allow,
    configError,
    adapter.createWebhookHandler === core.createWebhookHandler && adapter.WebhookConfigError === core.WebhookConfigError,
    testing.signPayload === coreTesting.signPayload && typeof testing.jobCompletedEvent === "function",
  ]));
  await app.close();
})();`;

const EXPECTED = [400, "missing_signature", 405, "POST", true, true, true];

describe("package exports (dist)", () => {
  it("works from ESM", () => {
    const load = `import fastify from "fastify"; import * as adapter from "@kallima/webhooks-fastify";
import * as testing from "@kallima/webhooks-fastify/testing"; import * as core from "@kallima/webhooks";
import * as coreTesting from "@kallima/webhooks/testing";`;
    expect(JSON.parse(node(["--input-type=module"], probe(load)))).toEqual(EXPECTED);
  });

  it("works from CommonJS", () => {
    const load = `const fastify = require("fastify"); const adapter = require("@kallima/webhooks-fastify");
const testing = require("@kallima/webhooks-fastify/testing"); const core = require("@kallima/webhooks");
const coreTesting = require("@kallima/webhooks/testing");`;
    expect(JSON.parse(node([], probe(load)))).toEqual(EXPECTED);
  });

  it("works on Fastify 4", () => {
    const load = `import fastify from "fastify4"; import * as adapter from "@kallima/webhooks-fastify";
import * as testing from "@kallima/webhooks-fastify/testing"; import * as core from "@kallima/webhooks";
import * as coreTesting from "@kallima/webhooks/testing";`;
    expect(JSON.parse(node(["--input-type=module"], probe(load)))).toEqual(EXPECTED);
  });

  // Each throws with tsc's diagnostics on any type error, including an unused @ts-expect-error.
  it.each([
    ["an ESM consumer on Fastify 5's types", "test/consumer/tsconfig.json"],
    ["an ESM consumer on Fastify 4's types", "test/consumer-fastify4/tsconfig.json"],
  ])(
    "types the plugin, its handlers' context and request.kallimaEvent for %s of the built declarations",
    (_name, project) => {
      const tsc = fileURLToPath(import.meta.resolve("typescript/bin/tsc"));
      execFileSync(process.execPath, [tsc, "-p", project], { cwd: packageDir, encoding: "utf8" });
    },
    30_000,
  );
});
