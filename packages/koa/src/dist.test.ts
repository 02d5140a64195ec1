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

// Mounts the middleware in a real app and answers an unsigned POST and a PUT: proves the module
// loads, shares the core's classes and functions, answers with the core's mapping, and that the
// ./testing subpath is the core's.
const probe = (load: string) => `${load}
const app = new Koa();
app.use(adapter.kallimaWebhooks({ path: "/k", secret: "whsec_distProbe", logger: false }));
const server = app.listen(0, "127.0.0.1", async () => {
  const url = "http://127.0.0.1:" + server.address().port + "/k";
  const posted = await fetch(url, { method: "POST", body: "{}" });
  const put = await fetch(url, { method: "PUT", body: "{}" });
  let configError = false;
  try { adapter.verifyKallimaWebhook({ secret: "" }); } catch (error) { configError = error instanceof core.WebhookConfigError; }
  console.log(JSON.stringify([
    posted.status, (await posted.json()).error.code,
    put.status, put.headers.get("allow"),
    configError,
    adapter.createWebhookHandler === core.createWebhookHandler && adapter.WebhookConfigError === core.WebhookConfigError,
    testing.signPayload === coreTesting.signPayload && typeof testing.jobCompletedEvent === "function",
  ]));
  server.close();
});`;

const EXPECTED = [400, "missing_signature", 405, "POST", true, true, true];

describe("package exports (dist)", () => {
  it("works from ESM", () => {
    const load = `import Koa from "koa"; import * as adapter from "@kallima/webhooks-koa";
import * as testing from "@kallima/webhooks-koa/testing"; import * as core from "@kallima/webhooks";
import * as coreTesting from "@kallima/webhooks/testing";`;
    expect(JSON.parse(node(["--input-type=module"], probe(load)))).toEqual(EXPECTED);
  });

  it("works from CommonJS", () => {
    const load = `const Koa = require("koa"); const adapter = require("@kallima/webhooks-koa");
const testing = require("@kallima/webhooks-koa/testing"); const core = require("@kallima/webhooks");
const coreTesting = require("@kallima/webhooks/testing");`;
    expect(JSON.parse(node([], probe(load)))).toEqual(EXPECTED);
  });
});
