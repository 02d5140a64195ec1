#!/usr/bin/env node
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ChildGroup } from "./children.js";
import { describeReport, runDemo } from "./demo.js";
import { runDevServerDemo } from "./dev-server-demo.js";
import { FRAMEWORKS } from "./frameworks.js";
import { painter } from "./output.js";
import { runQueueDemo } from "./queue-demo.js";

const USAGE = `Usage: pnpm demo [-- options]

Starts the example apps (${FRAMEWORKS.map((f) => f.id).join(", ")}), sends each webhook route a valid
job.completed, job.failed and webhook.test, an unknown future type, a duplicate, a tampered body,
a stale timestamp and a wrong secret (X-Kallima-Signature + X-Kallima-Timestamp), then a valid and
a tampered delivery with the single Kallima-Signature: t=…,v1=… header, prints what each answered,
and stops everything it started. Then a local Kallima sender (kallima-webhooks dev) registers
every example as an endpoint, fires a test event and job events, retries a failing handler to
success, rotates a secret, and prints the delivery history. Exits 1 when any answer differs from
the expected one.

Options:
  --only <ids>        comma-separated examples to run, e.g. --only express,hono
  --no-build          do not run turbo build first (the examples' own start scripts still run)
  --timeout <s>       seconds an example may take to print its ready line (default 240)
  --examples <dir>    examples directory (default <repo>/examples)
  --verbose           print everything the examples print
  -h, --help          this help
`;

function findRoot(from: string): string | undefined {
  let dir = from;
  while (true) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

async function main(): Promise<number> {
  let values: ReturnType<typeof parse>["values"];
  function parse() {
    return parseArgs({
      args: process.argv.slice(2),
      options: {
        only: { type: "string" },
        "no-build": { type: "boolean" },
        timeout: { type: "string" },
        examples: { type: "string" },
        verbose: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: false,
    });
  }
  try {
    ({ values } = parse());
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const only = values.only
    ?.split(",")
    .map((id) => id.trim())
    .filter(Boolean);
  const unknown = only?.filter((id) => !FRAMEWORKS.some((f) => f.id === id)) ?? [];
  if (only?.length === 0 || unknown.length > 0) {
    process.stderr.write(
      `--only takes examples among ${FRAMEWORKS.map((f) => f.id).join(", ")}${unknown.length ? `; unknown: ${unknown.join(", ")}` : ""}.\n`,
    );
    return 2;
  }
  const timeoutSeconds = values.timeout === undefined ? 240 : Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    process.stderr.write(
      `--timeout must be a positive number of seconds, got "${values.timeout}".\n`,
    );
    return 2;
  }
  const root = findRoot(dirname(fileURLToPath(import.meta.url))) ?? findRoot(process.cwd());
  if (!root) {
    process.stderr.write("Cannot find the repository root (pnpm-workspace.yaml).\n");
    return 2;
  }

  const color =
    process.env.NO_COLOR === undefined &&
    (process.stdout.isTTY === true || (process.env.FORCE_COLOR ?? "0") !== "0");
  const paint = painter(color);
  const group = new ChildGroup();

  // Whatever ends the demo, nothing it started may outlive it.
  process.once("exit", () => group.killAllNow());
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      process.stdout.write(
        `\n${signal === "SIGINT" ? "interrupted" : signal}: stopping the examples…\n`,
      );
      void group.stopAll().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
    });
  }
  const fail = (error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    void group.stopAll().finally(() => process.exit(1));
  };
  process.once("uncaughtException", fail);
  process.once("unhandledRejection", fail);

  process.stdout.write(
    `${paint.bold("Kallima webhooks demo")}: every example verifies real signed deliveries and refuses forged ones.\n`,
  );
  const started = Date.now();
  try {
    const report = await runDemo({
      root,
      ...(values.examples ? { examplesDir: resolve(values.examples) } : {}),
      ...(only ? { only } : {}),
      build: values["no-build"] !== true,
      readyTimeoutMs: timeoutSeconds * 1000,
      verbose: values.verbose === true,
      out: process.stdout,
      paint,
      liveProgress: process.stdout.isTTY === true,
      group,
    });
    await group.stopAll();
    process.stdout.write(`\n${describeReport(report, paint)}`);
    const dev = await runDevServerDemo({
      root,
      ...(values.examples ? { examplesDir: resolve(values.examples) } : {}),
      ...(only ? { only } : {}),
      readyTimeoutMs: timeoutSeconds * 1000,
      out: process.stdout,
      paint,
    });
    const queued = await runQueueDemo(process.stdout, paint);
    const took = Math.round((Date.now() - started) / 1000);
    process.stdout.write(`${paint.dim(`finished in ${took} s; every example stopped.`)}\n`);
    return report.ok && dev.ok && queued ? 0 : 1;
  } finally {
    await group.stopAll();
  }
}

process.exitCode = await main();
