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

// Mounts the middleware in a real app and answers one unsigned request: proves the module
// loads, shares the core's classes, and answers with the core's mapping.
const probe = (load: string) => `${load}
const app = express();
app.post("/k", adapter.kallimaWebhooks({ secret: "whsec_distProbe" }));
const server = app.listen(0, "127.0.0.1", async () => {
  const response = await fetch("http://127.0.0.1:" + server.address().port + "/k", { method: "POST", body: "{}" });
  const sameVerify = adapter.verify === nodeHelpers.keepRawBody;
  let configError = false;
  try { adapter.verifyKallimaWebhook({ secret: "" }); } catch (error) { configError = error instanceof core.WebhookConfigError; }
  console.log(JSON.stringify([response.status, (await response.json()).error.code, sameVerify, configError]));
  server.close();
});`;

describe("package exports (dist)", () => {
  it("works from ESM", () => {
    const load = `import express from "express"; import * as adapter from "@kallima/webhooks-express";
import * as core from "@kallima/webhooks"; import * as nodeHelpers from "@kallima/webhooks/node";`;
    expect(JSON.parse(node(["--input-type=module"], probe(load)))).toEqual([
      400,
      "missing_signature",
      true,
      true,
    ]);
  });

  it("works from CommonJS", () => {
    const load = `const express = require("express"); const adapter = require("@kallima/webhooks-express");
const core = require("@kallima/webhooks"); const nodeHelpers = require("@kallima/webhooks/node");`;
    expect(JSON.parse(node([], probe(load)))).toEqual([400, "missing_signature", true, true]);
  });

  // Each throws with tsc's diagnostics on any type error, including an unused @ts-expect-error.
  it.each([
    ["ESM and CommonJS consumers on @types/express 5", "test/consumer/tsconfig.json"],
    ["an ESM consumer on @types/express 4", "test/consumer-express4/tsconfig.json"],
  ])(
    "types req.kallimaEvent for %s of the built declarations",
    (_name, project) => {
      const tsc = fileURLToPath(import.meta.resolve("typescript/bin/tsc"));
      execFileSync(process.execPath, [tsc, "-p", project], { cwd: packageDir, encoding: "utf8" });
    },
    30_000,
  );
});
