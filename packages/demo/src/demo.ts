import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { type ChildGroup, ChildStartError, type RunningChild } from "./children.js";
import { type DemoFramework, FRAMEWORKS } from "./frameworks.js";
import { type Paint, Progress, renderTable, type TableColumn, type Writable } from "./output.js";
import { CASES, type CellResult, runScenario } from "./scenario.js";

export interface DemoOptions {
  /** The repository root (holds pnpm-workspace.yaml and node_modules/.bin/turbo). */
  root: string;
  /** Default `<root>/examples`. */
  examplesDir?: string;
  /** Example ids to run (`express`, `nest`, `next`, `hono`, `fastify`, `koa`); default all. */
  only?: string[];
  /** Build the examples and what they depend on with turbo first. Default true. */
  build?: boolean;
  /** How long an example may take to print its ready line (its start script may build). */
  readyTimeoutMs?: number;
  /** Print every line the examples print. */
  verbose?: boolean;
  out: Writable;
  paint: Paint;
  /** Redraw one progress line in place (on a terminal). */
  liveProgress: boolean;
  group: ChildGroup;
}

interface FoundExample {
  framework: DemoFramework;
  dir: string;
  packageName: string;
  start: string;
}

export interface DemoReport {
  ok: boolean;
  columns: TableColumn[];
  /** Examples that are not in the checkout (or have no start script). */
  missing: { id: string; reason: string }[];
}

function readExample(framework: DemoFramework, examplesDir: string): FoundExample | string {
  const dir = join(examplesDir, framework.id);
  const manifest = join(dir, "package.json");
  if (!existsSync(manifest)) return `examples/${framework.id}/package.json does not exist`;
  let pkg: { name?: unknown; scripts?: Record<string, unknown> };
  try {
    pkg = JSON.parse(readFileSync(manifest, "utf8"));
  } catch (error) {
    return `examples/${framework.id}/package.json is not valid JSON (${(error as Error).message})`;
  }
  const start = pkg.scripts?.start;
  if (typeof start !== "string" || start.trim() === "") {
    return `examples/${framework.id}/package.json has no "start" script`;
  }
  return {
    framework,
    dir,
    packageName: typeof pkg.name === "string" ? pkg.name : framework.id,
    start,
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== "object" || address === null) throw new Error("No free port.");
  return address.port;
}

function onPath(binary: string, path: string | undefined): boolean {
  return (path ?? "").split(delimiter).some((dir) => dir !== "" && existsSync(join(dir, binary)));
}

/**
 * turbo runs each package's script through the package manager, so pnpm must be on PATH. Under
 * `pnpm demo` it is; run directly (node, vitest) it may not be: then a shim runs the pnpm version
 * the repository pins (`packageManager`) through npx.
 */
async function pnpmPath(root: string, env: NodeJS.ProcessEnv): Promise<{ dir?: string }> {
  if (onPath("pnpm", env.PATH)) return {};
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    packageManager?: string;
  };
  const pinned = /^pnpm@([^+\s]+)/.exec(manifest.packageManager ?? "")?.[1] ?? "latest";
  const dir = await mkdtemp(join(tmpdir(), "kallima-demo-pnpm-"));
  const shim = join(dir, "pnpm");
  await writeFile(shim, `#!/bin/sh\nexec npx -y pnpm@${pinned} "$@"\n`);
  await chmod(shim, 0o755);
  return { dir };
}

/** The environment of an example: the contract's PORT and secret, and nothing from a test runner. */
function exampleEnv(root: string, dir: string, port: number, secret: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    // vitest sets NODE_ENV=test, which `next build` refuses; the scripts choose their own mode.
    if (name === "NODE_ENV" || name === "HOST" || name.startsWith("VITEST")) delete env[name];
  }
  env.PORT = String(port);
  env.KALLIMA_WEBHOOK_SECRET = secret;
  env.NEXT_TELEMETRY_DISABLED = "1";
  // Their output is only shown, indented, when they fail to start: plain text reads better there.
  env.NO_COLOR = "1";
  delete env.FORCE_COLOR;
  env.PATH = [join(dir, "node_modules", ".bin"), join(root, "node_modules", ".bin"), env.PATH]
    .filter(Boolean)
    .join(delimiter);
  return env;
}

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)}s`;

/**
 * Starts the example apps, sends each webhook route the deliveries of `CASES`, and returns the table.
 * Everything it starts belongs to `options.group`; the caller stops it.
 */
export async function runDemo(options: DemoOptions): Promise<DemoReport> {
  const examplesDir = options.examplesDir ?? join(options.root, "examples");
  const { out, paint } = options;
  const selected = options.only
    ? FRAMEWORKS.filter((framework) => options.only!.includes(framework.id))
    : [...FRAMEWORKS];
  const found: FoundExample[] = [];
  const missing: DemoReport["missing"] = [];
  for (const framework of selected) {
    const example = readExample(framework, examplesDir);
    if (typeof example === "string") missing.push({ id: framework.id, reason: example });
    else found.push(example);
  }
  for (const { reason } of missing) out.write(`${paint.bad("missing:")} ${reason}\n`);

  const progress = new Progress(out, options.liveProgress, paint);
  const secret = `whsec_demo_${randomBytes(18).toString("base64url")}`;
  const columns = new Map<string, TableColumn>();
  const shim = { dir: undefined as string | undefined };

  try {
    if (options.build !== false && found.length > 0) {
      const started = Date.now();
      progress.phase("building the examples and their packages (turbo)…");
      Object.assign(shim, await pnpmPath(options.root, process.env));
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        TURBO_TELEMETRY_DISABLED: "1",
        TURBO_NO_UPDATE_NOTIFIER: "1",
      };
      delete env.NODE_ENV;
      if (shim.dir) env.PATH = `${shim.dir}${delimiter}${env.PATH ?? ""}`;
      const build = await options.group.run({
        cwd: options.root,
        command: join(options.root, "node_modules", ".bin", "turbo"),
        args: [
          "run",
          "build",
          ...found.map((example) => `--filter=${example.packageName}...`),
          "--output-logs=errors-only",
        ],
        env,
        ...(options.verbose ? { onLine: (line: string) => progress.log(`  turbo | ${line}`) } : {}),
      });
      if (build.code !== 0) {
        progress.done();
        out.write(
          `${paint.bad("build failed")} (turbo exit code ${build.code}):\n${build.output}\n`,
        );
        return { ok: false, columns: [], missing };
      }
      progress.log(`built in ${seconds(started)}`);
    }

    if (found.length > 0) progress.phase("starting:");
    const runs = found.map(async (example) => {
      const label = example.framework.label;
      const started = Date.now();
      progress.set(label, "starting…");
      let running: RunningChild;
      try {
        const port = await freePort();
        running = await options.group.start({
          name: label,
          cwd: example.dir,
          script: example.start,
          env: exampleEnv(options.root, example.dir, port, secret),
          readyTimeoutMs: options.readyTimeoutMs ?? 240_000,
          onLine: (line) => {
            if (options.verbose) progress.log(`  ${label} | ${line}`);
            // `next build` is the long part: show which step it is in.
            if (/next build|Creating an optimized|Compiled|Generating static/i.test(line)) {
              progress.set(label, "building…");
            }
          },
        });
      } catch (error) {
        if (options.group.stopping) return;
        const message = error instanceof Error ? error.message : String(error);
        progress.set(label, paint.bad("failed"));
        const output = error instanceof ChildStartError ? error.output : "";
        progress.log(`${paint.bad(message)}\n${output ? paint.dim(indent(output)) : ""}`.trimEnd());
        for (const route of example.framework.routes) {
          columns.set(route.label, { label: route.label, failure: message });
        }
        return;
      }
      progress.set(label, paint.ok(`ready ${seconds(started)}`));
      progress.log(
        `${paint.ok("✓")} ${label} started (pid ${running.pid}) at ${running.url} in ${seconds(started)}`,
      );
      await Promise.all(
        example.framework.routes.map(async (route) => {
          const cells = await runScenario(new URL(route.path, running.url).href, secret);
          columns.set(route.label, { label: route.label, cells });
        }),
      );
      progress.set(label, paint.ok("done"));
    });
    await Promise.all(runs);
  } finally {
    progress.done();
    if (shim.dir) await rm(shim.dir, { recursive: true, force: true });
  }

  const ordered: TableColumn[] = [];
  for (const example of found) {
    for (const route of example.framework.routes) {
      const column = columns.get(route.label);
      if (column) ordered.push(column);
    }
  }
  const ok =
    missing.length === 0 &&
    found.length > 0 &&
    ordered.every((column) => column.cells?.every((cell) => cell.ok) === true);
  return { ok, columns: ordered, missing };
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `    ${line}`)
    .join("\n");
}

/** The table, the cells that differ from the expected answer, and the verdict, as printed. */
export function describeReport(report: DemoReport, paint: Paint): string {
  const parts: string[] = [];
  if (report.columns.length > 0) parts.push(renderTable(report.columns, paint));
  const wrong: string[] = [];
  for (const column of report.columns) {
    if (column.failure) {
      wrong.push(`${column.label}: not started (${column.failure})`);
      continue;
    }
    for (const cell of column.cells ?? []) {
      if (cell.ok) continue;
      const deliveryCase = CASES.find((c) => c.id === cell.caseId)!;
      wrong.push(
        `${column.label} · ${deliveryCase.label}: expected ${deliveryCase.expectedText}, got ${describeCell(cell)}${cell.detail ? ` (${cell.detail})` : ""}`,
      );
    }
  }
  if (wrong.length > 0) parts.push(wrong.map((line) => `${paint.bad("✗")} ${line}`).join("\n"));
  for (const { reason } of report.missing) {
    parts.push(`${paint.bad("✗ missing:")} ${reason}; its row is not in the table.`);
  }
  const differs = wrong.length > 0 || report.missing.length === 0;
  parts.push(
    report.ok
      ? paint.ok(
          `✓ every framework verified the real deliveries and refused the forged ones (${report.columns.length} route${report.columns.length === 1 ? "" : "s"} × ${CASES.length} deliveries).`,
        )
      : paint.bad(
          differs
            ? "✗ the demo found differences from the expected answers (see above)."
            : `✗ ${report.columns.length > 0 ? "every answer was as expected, but not every example ran" : "no example ran"} (missing: ${report.missing.map((m) => m.id).join(", ")}).`,
        ),
  );
  return `${parts.join("\n\n")}\n`;
}

function describeCell(cell: CellResult): string {
  if (cell.status === undefined) return "no answer";
  return `${cell.status} ${cell.ran ? "ran" : "not run"}`;
}
