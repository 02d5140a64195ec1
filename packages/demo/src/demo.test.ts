import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The built demo, as `pnpm demo` runs it: `turbo run test` builds it first.
const main = fileURLToPath(new URL("../dist/main.js", import.meta.url));

interface Run {
  child: ChildProcess;
  output(): string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startDemo(args: string[]): Run {
  let output = "";
  const child = spawn(process.execPath, [main, ...args], {
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr.on("data", (chunk) => {
    output += chunk;
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exit };
}

/** Alive and not a zombie (a container's init may leave killed processes unreaped). */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return !existsSync("/proc");
  }
};

const startedPids = (output: string) =>
  [...output.matchAll(/started \(pid (\d+)\) at (http:\/\/\S+)/g)].map((m) => ({
    pid: Number(m[1]),
    url: m[2]!,
  }));

let fakes: string;

/** A made-up example in a scratch examples directory: package.json with a start script + server. */
async function fakeExample(id: string, server: string): Promise<void> {
  const dir = join(fakes, id);
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, "package.json"),
    JSON.stringify({ name: `fake-${id}`, private: true, scripts: { start: "node server.mjs" } }),
  );
  await writeFile(join(dir, "server.mjs"), server);
}

// An endpoint that follows the contract's shape but checks nothing: it "runs the handler" for
// every delivery, forged or not. The demo must flag it.
const NAIVE_SERVER = `
import { createServer } from "node:http";
const ran = [];
const server = createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    res.setHeader("content-type", "application/json");
    if (req.method === "GET") return res.end(JSON.stringify({ events: ran }));
    const event = JSON.parse(body);
    ran.push({ id: event.id, type: event.type });
    res.end(JSON.stringify({ received: true }));
  });
});
server.listen(Number(process.env.PORT), "127.0.0.1", () =>
  console.log("listening on http://127.0.0.1:" + server.address().port));
`;

beforeAll(async () => {
  if (!existsSync(main)) throw new Error(`${main} is missing: run the build (tsup) first.`);
  fakes = await mkdtemp(join(tmpdir(), "kallima-demo-examples-"));
});
afterAll(() => rm(fakes, { recursive: true, force: true }));

describe("pnpm demo, against the real examples", () => {
  it("Express and Hono verify the real deliveries and refuse the forged ones; everything stops", async () => {
    // The full all-framework run (with next build) is the root `pnpm demo` in CI; this one is quick.
    const run = startDemo(["--only", "express,hono", "--no-build", "--timeout", "120"]);
    const { code } = await run.exit;
    const output = run.output();
    expect(output, output).toMatch(/✓ every framework verified/);
    expect(code).toBe(0);
    const rows = output.split("\n").filter((line) => / {2}(200|401) /.test(line));
    expect(rows).toHaveLength(10);
    for (const row of rows) {
      expect(row.match(/✓/g)).toHaveLength(2);
      expect(row).not.toContain("✗");
    }
    expect(output).toMatch(/^job\.completed\s+200 ran\s+✓ 200 ran\s+✓ 200 ran$/m);
    expect(output).toMatch(/^duplicate\s+200 not re-run\s+✓ 200 —\s+✓ 200 —$/m);
    expect(output).toMatch(/^tampered body\s+401 not run\s+✓ 401 —\s+✓ 401 —$/m);
    // The same receivers, signed with the API reference's single Kallima-Signature header.
    expect(output).toMatch(/^t=,v1= valid\s+200 ran\s+✓ 200 ran\s+✓ 200 ran$/m);
    expect(output).toMatch(/^t=,v1= tampered\s+401 not run\s+✓ 401 —\s+✓ 401 —$/m);
    expect(output).toMatch(
      /^signed with X-Kallima-Signature \+ X-Kallima-Timestamp; t=,v1= rows with Kallima-Signature: t=…,v1=…$/m,
    );
    expect(output).toContain("(2 routes × 10 deliveries)");
    const lines = output.split("\n");
    const table = lines.slice(lines.findIndex((line) => line.startsWith("delivery ")));
    for (const line of table.slice(0, 12)) expect(line.length, line).toBeLessThanOrEqual(100);
    const started = startedPids(output);
    expect(started).toHaveLength(2);
    for (const { pid, url } of started) {
      expect(alive(pid)).toBe(false);
      await expect(fetch(url)).rejects.toThrow();
    }
  });
});

describe("pnpm demo, against examples that misbehave", () => {
  it("marks the cells an endpoint gets wrong, reports a missing example, and exits 1", async () => {
    await fakeExample("hono", NAIVE_SERVER);
    const run = startDemo(["--examples", fakes, "--only", "express,hono", "--no-build"]);
    const { code } = await run.exit;
    const output = run.output();
    expect(code, output).toBe(1);
    expect(output).toContain("missing: examples/express/package.json does not exist");
    expect(output).toMatch(/^job\.completed\s+200 ran\s+✓ 200 ran$/m);
    expect(output).toMatch(/^unknown future type\s+200 not run\s+✗ 200 ran$/m);
    expect(output).toMatch(/^duplicate\s+200 not re-run\s+✗ 200 ran$/m);
    expect(output).toMatch(/^stale timestamp\s+401 not run\s+✗ 200 ran$/m);
    expect(output).toMatch(/^t=,v1= valid\s+200 ran\s+✓ 200 ran$/m);
    expect(output).toMatch(/^t=,v1= tampered\s+401 not run\s+✗ 200 ran$/m);
    expect(output).toContain("✗ Hono · wrong secret: expected 401 not run, got 200 ran");
    expect(output).toContain("✗ Hono · t=,v1= tampered: expected 401 not run, got 200 ran");
    expect(output).toContain("✗ the demo found differences");
    for (const { pid } of startedPids(output)) expect(alive(pid)).toBe(false);
  });

  it("reports an example that crashes before its ready line, with its output", async () => {
    await fakeExample(
      "nest",
      `console.error("cannot find module ./dist/main.js"); process.exit(3);`,
    );
    const run = startDemo(["--examples", fakes, "--only", "nest", "--no-build"]);
    const { code } = await run.exit;
    const output = run.output();
    expect(code, output).toBe(1);
    expect(output).toContain("NestJS: exited before it was ready (exit code 3)");
    expect(output).toContain("cannot find module ./dist/main.js");
    expect(output).toMatch(/^job\.completed\s+200 ran\s+✗ not started$/m);
  });

  it("on Ctrl-C stops the example's whole process group and exits 130", async () => {
    // Never ready, and with a grandchild: both must be gone after Ctrl-C.
    const pids = join(fakes, "pids.json");
    await fakeExample(
      "next",
      `
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
const grandchild = spawn("sleep", ["600"], { stdio: "ignore" });
writeFileSync(${JSON.stringify(pids)}, JSON.stringify([process.pid, grandchild.pid]));
console.log("building…");
setInterval(() => {}, 1000);
`,
    );
    const run = startDemo(["--examples", fakes, "--only", "next", "--no-build"]);
    const deadline = Date.now() + 20_000;
    while (!existsSync(pids) && Date.now() < deadline) await sleep(50);
    const [node, sleeper] = JSON.parse(await readFile(pids, "utf8")) as [number, number];
    expect(alive(node) && alive(sleeper)).toBe(true);
    run.child.kill("SIGINT");
    const { code } = await run.exit;
    expect(code, run.output()).toBe(130);
    expect(run.output()).toContain("interrupted: stopping the examples");
    // Stopped, not failed: no crash report for what the demo itself stopped.
    expect(run.output()).not.toContain("exited before it was ready");
    expect(alive(node)).toBe(false);
    expect(alive(sleeper)).toBe(false);
  });

  it("rejects an unknown --only name with exit 2", async () => {
    const run = startDemo(["--only", "express,rails"]);
    const { code } = await run.exit;
    expect(code).toBe(2);
    expect(run.output()).toContain("unknown: rails");
  });
});
