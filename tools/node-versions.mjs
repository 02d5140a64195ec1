#!/usr/bin/env node
// Runs the test suite (`turbo run test`, all but the bench's smoke run) again on each Node major the packages support
// besides the one running this script, with binaries from the npm registry's `node` package.
// Usage: node tools/node-versions.mjs [22.23.3 24.21.0 …]
import { spawnSync } from "node:child_process";
import { dirname } from "node:path";

// Exact versions, so that CI runs what was tested and npx reuses its cache.
const versions = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ["22.23.3", "24.21.0"];
const PNPM = ["-y", "pnpm@12.21.0"];

function binaryOf(version) {
  const probe = spawnSync("npx", ["-y", `node@${version}`, "-p", "process.execPath"], {
    encoding: "utf8",
  });
  if (probe.status !== 0) throw new Error(`node@${version} did not start: ${probe.stderr}`);
  return probe.stdout.trim();
}

const results = [];
for (const version of versions) {
  const binary = binaryOf(version);
  // That node first on PATH: npx, pnpm, turbo's tasks and every test's child processes use it.
  const env = { ...process.env, PATH: `${dirname(binary)}:${process.env.PATH}` };
  console.log(`\n=== tests on Node ${version} (${binary}) ===`);
  const started = Date.now();
  // Every package's tests but the bench's: its smoke run measures this machine's Node and starts
  // Bun, Deno and workerd through npx, which under another Node's npm reinstalls them (minutes,
  // and refused on Node 22 here); it ships nothing that the Node version could break.
  const run = spawnSync(
    "npx",
    [...PNPM, "turbo", "run", "test", "--concurrency=2", "--filter=!@kallima/webhooks-bench"],
    {
      env,
      stdio: "inherit",
    },
  );
  results.push({
    version,
    ok: run.status === 0,
    seconds: Math.round((Date.now() - started) / 1000),
  });
}

console.log("\n| node | tests | time |\n| --- | --- | --- |");
console.log(`| ${process.versions.node} (this machine) | see above | |`);
for (const { version, ok, seconds } of results) {
  console.log(`| ${version} | ${ok ? "PASS" : "FAIL"} | ${seconds} s |`);
}
process.exit(results.every((result) => result.ok) ? 0 : 1);
