// The core and the Hono example on real runtimes: Node 20 (this machine), Node 22 and 24, Bun,
// Deno and workerd, each installed from the npm registry as a package that ships its binary
// (npx caches them in ~/.npm/_npx). On each runtime it runs
//   (a) both lists of the shared PROTOCOL vectors through the built core package
//       (@kallima/webhooks, dist): `vectors` (X-Kallima-Signature + X-Kallima-Timestamp) and
//       `kallima_signature_vectors` (Kallima-Signature: t=…,v1=…), each case by every way of
//       passing its headers (runtime/check-vectors.mjs), and
//   (b) the core's delivery records and its OpenTelemetry subpath on the real
//       @opentelemetry/api, with a recording tracer and meter (runtime/check-observability.mjs),
//   (c) signed, tampered, stale, BOM and invalid-UTF-8 deliveries against the Hono example, in
//       both header formats,
// then prints a table of runtime × result and exits non-zero on any failure.
//
// It tests the packages as they are published: package.json and dist of @kallima/webhooks and
// @kallima/webhooks-hono are copied into a temporary node_modules (with hono and
// @hono/node-server linked from this workspace), and the example is built there. Inside the
// workspace, Bun and esbuild would also apply packages/core/tsconfig.json "paths" to the core's
// dist files, which no user install has. Needs packages/core/dist and packages/hono/dist built.
// KALLIMA_RUNTIMES=node20,bun limits the runtimes.
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { rmSync } from "node:fs";
import {
  cp,
  mkdir,
  mkdtemp,
  readFile,
  realpath,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const exampleRoot = fileURLToPath(new URL("..", import.meta.url));
const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
const vectorsPath =
  process.env.KALLIMA_TEST_VECTORS ??
  fileURLToPath(new URL("../../../../shared/test-vectors.json", import.meta.url));
const SECRET = "whsec_runtimeMatrixSecret_0123456789abcdefgh";
const OTHER_SECRET = "whsec_someOtherEndpointSecret_0123456789ab";
const START_TIMEOUT_MS = 60_000;
const INSTALL_TIMEOUT_MS = 240_000;

// Exact versions, so that CI runs what was tested and npx reuses its cache without asking the
// registry which version a range means today.
const RUNTIMES = [
  { id: "node20", name: "Node 20 (machine)", command: [process.execPath], engine: "node:crypto" },
  { id: "node22", name: "Node 22", command: ["npx", "-y", "node@22.23.3"], engine: "node:crypto" },
  { id: "node24", name: "Node 24", command: ["npx", "-y", "node@24.21.0"], engine: "node:crypto" },
  { id: "bun", name: "Bun", command: ["npx", "-y", "bun@1.4.5"], engine: "web-crypto" },
  {
    id: "deno",
    name: "Deno",
    command: [
      "npx",
      "-y",
      "deno@2.9.6",
      "run",
      "--no-lock",
      // Only the staged node_modules, never a download of its own.
      "--node-modules-dir=manual",
      "--no-remote",
      "--allow-env",
      "--allow-net",
      "--allow-read",
    ],
    versionArgs: ["npx", "-y", "deno@2.9.6", "--version"],
    engine: "web-crypto",
  },
  {
    id: "workerd",
    name: "workerd",
    command: ["npx", "-y", "workerd@1.20261117.1"],
    engine: "web-crypto",
  },
];

const selected = process.env.KALLIMA_RUNTIMES?.split(",").map((id) => id.trim());
const runtimes = selected ? RUNTIMES.filter((runtime) => selected.includes(runtime.id)) : RUNTIMES;
if (runtimes.length === 0) {
  console.error(`KALLIMA_RUNTIMES matched none of ${RUNTIMES.map((r) => r.id).join(", ")}`);
  process.exit(2);
}

// ---------------------------------------------------------------- staging

/** A directory laid out like an app that installed the published packages. */
async function stage() {
  const dir = await mkdtemp(join(tmpdir(), "kallima-runtimes-"));
  const modules = join(dir, "node_modules");
  for (const [name, source] of [
    ["@kallima/webhooks", "packages/core"],
    ["@kallima/webhooks-hono", "packages/hono"],
  ]) {
    const from = join(repoRoot, source);
    try {
      await stat(join(from, "dist/index.js"));
    } catch {
      throw new Error(`${source}/dist is missing: build it first (pnpm build).`);
    }
    await mkdir(join(modules, name), { recursive: true });
    await cp(join(from, "package.json"), join(modules, name, "package.json"));
    await cp(join(from, "dist"), join(modules, name, "dist"), { recursive: true });
  }
  for (const name of ["hono", "@hono/node-server"]) {
    await mkdir(join(modules, name, ".."), { recursive: true });
    await symlink(await realpath(join(exampleRoot, "node_modules", name)), join(modules, name));
  }
  // The core's optional peer, as an app that uses @kallima/webhooks/otel installs it.
  await mkdir(join(modules, "@opentelemetry"), { recursive: true });
  await symlink(
    await realpath(join(repoRoot, "packages/core/node_modules/@opentelemetry/api")),
    join(modules, "@opentelemetry/api"),
  );
  await cp(join(exampleRoot, "src"), join(dir, "src"), { recursive: true });
  await cp(join(exampleRoot, "scripts/runtime"), join(dir, "runtime"), { recursive: true });
  await writeFile(
    join(dir, "package.json"),
    `${JSON.stringify(
      {
        name: "kallima-runtime-matrix",
        private: true,
        type: "module",
        dependencies: {
          "@kallima/webhooks": "*",
          "@kallima/webhooks-hono": "*",
          hono: "*",
          "@hono/node-server": "*",
          "@opentelemetry/api": "*",
        },
      },
      null,
      2,
    )}\n`,
  );
  // Packages stay external: each runtime resolves them, and the core's engine, by its own conditions.
  await build({
    entryPoints: { node: "src/node.ts", bun: "src/bun.ts", deno: "src/deno.ts" },
    outdir: join(dir, "dist"),
    absWorkingDir: dir,
    bundle: true,
    packages: "external",
    format: "esm",
    target: "es2022",
    platform: "neutral",
    logLevel: "error",
  });
  return dir;
}

// ---------------------------------------------------------------- processes

const children = new Set();

/** Starts a command in its own process group, so that npx and the runtime it starts die together. */
function start(command, args, options = {}) {
  const child = spawn(command[0], [...command.slice(1), ...args], {
    cwd: options.cwd ?? stageDir,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const output = { stdout: "", stderr: "" };
  child.stdout.setEncoding("utf8").on("data", (chunk) => {
    output.stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk) => {
    output.stderr += chunk;
  });
  const exited = new Promise((resolve) => child.on("close", (code) => resolve(code)));
  children.add(child);
  exited.then(() => children.delete(child));
  return { child, output, exited };
}

async function stop(proc) {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  try {
    process.kill(-proc.child.pid, "SIGTERM");
  } catch {}
  const timer = setTimeout(() => {
    try {
      process.kill(-proc.child.pid, "SIGKILL");
    } catch {}
  }, 3000);
  await proc.exited;
  clearTimeout(timer);
}

process.on("exit", () => {
  for (const child of children) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  }
});

/** Runs a command to completion. */
async function run(command, args, { timeoutMs, env } = {}) {
  const proc = start(command, args, { env });
  const timer = setTimeout(() => stop(proc), timeoutMs ?? START_TIMEOUT_MS);
  const code = await proc.exited;
  clearTimeout(timer);
  return { code, ...proc.output };
}

const noise = (text) =>
  text
    .split("\n")
    .filter((line) => line.trim() && !line.startsWith("npm warn"))
    .join("\n");

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForReadyLine(proc) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(proc.output.stdout);
    if (match) return match[1];
    if (proc.child.exitCode !== null) break;
    await sleep(50);
  }
  throw new Error(`no ready line: ${noise(proc.output.stdout + proc.output.stderr).slice(-800)}`);
}

async function waitForHttp(url, proc) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) break;
    try {
      return await fetch(url);
    } catch {
      await sleep(100);
    }
  }
  throw new Error(
    `${url} never answered: ${noise(proc.output.stdout + proc.output.stderr).slice(-800)}`,
  );
}

// ---------------------------------------------------------------- (b) the example's checks

const encoder = new TextEncoder();
const concat = (...parts) => {
  const arrays = parts.map((part) => (typeof part === "string" ? encoder.encode(part) : part));
  const out = new Uint8Array(arrays.reduce((size, part) => size + part.byteLength, 0));
  let offset = 0;
  for (const part of arrays) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
};
const nowSeconds = () => Math.floor(Date.now() / 1000);
const eventBody = (id, type, data) =>
  JSON.stringify({
    id,
    type,
    api_version: "2026-04-23",
    created_at: new Date().toISOString(),
    data,
  });

const hmacHex = (secret, timestamp, bytes) =>
  createHmac("sha256", secret).update(`${timestamp}.`).update(bytes).digest("hex");

/**
 * Signs as PROTOCOL.md says, with node:crypto on this side, independently of the core (whose
 * own signer is what is under test). `format: "kallima-signature"` sends the one combined header
 * `Kallima-Signature: t=…,v1=…`; `extraV1` signs with further secrets into earlier v1 items, as a
 * sender does during a rotation.
 */
function signed(
  body,
  { secret = SECRET, timestamp = nowSeconds(), format = "x-headers", extraV1 = [] } = {},
) {
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  const signature = hmacHex(secret, timestamp, bytes);
  if (format === "kallima-signature") {
    const v1 = [...extraV1.map((other) => hmacHex(other, timestamp, bytes)), signature];
    return {
      body: bytes,
      headers: {
        "content-type": "application/json",
        "kallima-signature": [`t=${timestamp}`, ...v1.map((hex) => `v1=${hex}`)].join(","),
      },
    };
  }
  return {
    body: bytes,
    headers: {
      "content-type": "application/json",
      "x-kallima-signature": signature,
      "x-kallima-timestamp": String(timestamp),
    },
  };
}

const combined = (body, options = {}) => signed(body, { ...options, format: "kallima-signature" });

/** The deliveries every runtime must answer the same way. */
function exampleCases(tag) {
  const completed = eventBody(`evt_${tag}_completed`, "job.completed", {
    id: "job_1",
    status: "completed",
  });
  const failed = eventBody(`evt_${tag}_failed`, "job.failed", {
    id: "job_2",
    status: "failed",
    error: { code: "oom", message: "GPU ran out of memory" },
  });
  const test = eventBody(`evt_${tag}_test`, "webhook.test", { webhook_id: "wh_1" });
  const ksTest = eventBody(`evt_${tag}_ks_test`, "webhook.test", { webhook_id: "wh_ks" });
  const ksFailed = eventBody(`evt_${tag}_ks_failed`, "job.failed", {
    id: "job_3",
    status: "failed",
    error_message: "out of credits",
  });
  const ksFirst = eventBody(`evt_${tag}_ks_first`, "job.completed", {
    id: "job_4",
    status: "completed",
  });
  const ksNotRescued = eventBody(`evt_${tag}_ks_not_rescued`, "job.completed", {
    id: "job_5",
    status: "completed",
  });
  // Bytes 0xFF 0xFE are not UTF-8: any decode/re-encode step changes them.
  const invalidUtf8 = concat(
    `{"id":"evt_${tag}_bad_utf8","type":"webhook.test","api_version":"2026-04-23","created_at":"2026-04-23T10:00:00+00:00","data":{"webhook_id":"wh_`,
    new Uint8Array([0xff, 0xfe]),
    `"}}`,
  );
  const withBom = concat(
    new Uint8Array([0xef, 0xbb, 0xbf]),
    eventBody(`evt_${tag}_bom`, "webhook.test", { webhook_id: "wh_bom" }),
  );
  const tampered = signed(completed);
  const reencoded = signed(invalidUtf8);
  const ksTampered = combined(ksTest);
  const { "x-kallima-signature": _, ...unsigned } = signed(test).headers;
  const ksNoT = combined(ksTest);
  ksNoT.headers["kallima-signature"] = ksNoT.headers["kallima-signature"].replace(/^t=\d+,/, "");
  // Which header wins when both formats arrive: Kallima-Signature alone (PROTOCOL.md).
  const ksFirstSigned = combined(ksFirst);
  const ksWins = {
    ...ksFirstSigned,
    headers: {
      ...ksFirstSigned.headers,
      "x-kallima-signature": "0".repeat(64),
      "x-kallima-timestamp": String(nowSeconds()),
    },
  };
  const pairSigned = signed(ksNotRescued);
  const ksNotRescuedByPair = {
    ...pairSigned,
    headers: {
      ...pairSigned.headers,
      "kallima-signature": combined(ksNotRescued, { secret: OTHER_SECRET }).headers[
        "kallima-signature"
      ],
    },
  };
  return [
    ["signed job.completed", signed(completed), 200, "handled", `evt_${tag}_completed`],
    ["signed job.failed", signed(failed), 200, "handled", `evt_${tag}_failed`],
    ["signed webhook.test", signed(test), 200, "handled", `evt_${tag}_test`],
    ["repeat of job.completed", signed(completed), 200, "duplicate"],
    [
      "tampered body",
      { ...tampered, body: encoder.encode(completed.replace("job_1", "job_9")) },
      401,
      "invalid_signature",
    ],
    [
      "stale (600 s old)",
      signed(completed, { timestamp: nowSeconds() - 600 }),
      401,
      "timestamp_too_old",
    ],
    [
      "future (600 s ahead)",
      signed(completed, { timestamp: nowSeconds() + 600 }),
      401,
      "timestamp_in_future",
    ],
    ["other secret", signed(completed, { secret: OTHER_SECRET }), 401, "invalid_signature"],
    ["no signature", { body: encoder.encode(test), headers: unsigned }, 400, "missing_signature"],
    // The signature matches the exact bytes (a decode/re-encode would give 401, next case); then
    // bytes that are not UTF-8 are not JSON (RFC 8259 §8.1), so no event: 400, not 401.
    ["invalid UTF-8, exact bytes", signed(invalidUtf8), 400, "invalid_payload"],
    [
      "invalid UTF-8, re-encoded",
      { ...reencoded, body: encoder.encode(new TextDecoder().decode(invalidUtf8)) },
      401,
      "invalid_signature",
    ],
    // Signature matches the exact bytes (BOM included), then the BOM makes it non-JSON: 400, not 401.
    ["UTF-8 BOM, exact bytes", signed(withBom), 400, "invalid_payload"],
    // Acknowledged through the example's onUnhandled, still "unhandled" (the core's outcome for a
    // type without a handler of its own), and not listed by GET.
    [
      "unknown event type",
      signed(eventBody(`evt_${tag}_new`, "humanization.completed", {})),
      200,
      "unhandled",
    ],
    // The same deliveries in the combined header of Kallima's API reference.
    ["Kallima-Signature webhook.test", combined(ksTest), 200, "handled", `evt_${tag}_ks_test`],
    // The id was handled through the X- headers above: deduplication does not depend on the format.
    ["Kallima-Signature repeat of job.completed", combined(completed), 200, "duplicate"],
    [
      "Kallima-Signature tampered body",
      { ...ksTampered, body: encoder.encode(ksTest.replace("wh_ks", "wh_xx")) },
      401,
      "invalid_signature",
    ],
    [
      "Kallima-Signature stale (600 s old)",
      combined(ksTest, { timestamp: nowSeconds() - 600 }),
      401,
      "timestamp_too_old",
    ],
    [
      "Kallima-Signature other secret",
      combined(ksTest, { secret: OTHER_SECRET }),
      401,
      "invalid_signature",
    ],
    [
      "Kallima-Signature two v1, second matches",
      combined(ksFailed, { extraV1: [OTHER_SECRET] }),
      200,
      "handled",
      `evt_${tag}_ks_failed`,
    ],
    ["Kallima-Signature without t", ksNoT, 400, "missing_timestamp"],
    ["Kallima-Signature valid, X- pair wrong", ksWins, 200, "handled", `evt_${tag}_ks_first`],
    ["Kallima-Signature wrong, X- pair valid", ksNotRescuedByPair, 401, "invalid_signature"],
  ].map(([name, delivery, status, outcome, recorded]) => ({
    name,
    delivery,
    status,
    outcome,
    recorded,
  }));
}

async function checkExample(baseUrl, tag) {
  const failures = [];
  const url = `${baseUrl}/kallima-events`;
  const before = await (await fetch(url)).json();
  if (JSON.stringify(before) !== JSON.stringify({ events: [] })) {
    failures.push(`GET before: ${JSON.stringify(before)}`);
  }
  const cases = exampleCases(tag);
  for (const { name, delivery, status, outcome } of cases) {
    const response = await fetch(url, {
      method: "POST",
      headers: delivery.headers,
      body: delivery.body,
    });
    const text = await response.text();
    let answer;
    try {
      answer = JSON.parse(text);
    } catch {
      answer = {};
    }
    const got = answer.outcome ?? answer.error?.code;
    if (response.status !== status || got !== outcome) {
      failures.push(
        `${name}: expected ${status} ${outcome}, got ${response.status} ${text.slice(0, 200)}`,
      );
    }
  }
  const after = await (await fetch(url)).json();
  // In delivery order: the ids whose handler (not onUnhandled) ran, each once.
  const expected = cases.flatMap(({ recorded }) => (recorded ? [recorded] : []));
  const ran = (after.events ?? []).map((event) => event.id);
  if (JSON.stringify(ran) !== JSON.stringify(expected)) {
    failures.push(
      `GET after: handlers ran for ${JSON.stringify(ran)}, expected ${JSON.stringify(expected)}`,
    );
  }
  return { total: cases.length + 2, failures };
}

// ---------------------------------------------------------------- per runtime

function parseVectorsReport(text) {
  const line = text
    .split("\n")
    .reverse()
    .find((candidate) => candidate.startsWith("{"));
  if (!line) throw new Error(`no report: ${noise(text).slice(-800)}`);
  return JSON.parse(line);
}

async function runProcessRuntime(runtime) {
  const entry = { node20: "node", node22: "node", node24: "node", bun: "bun", deno: "deno" }[
    runtime.id
  ];
  const vectorsRun = await run(runtime.command, ["runtime/vectors-cli.mjs", vectorsPath]);
  let vectors;
  try {
    vectors = parseVectorsReport(vectorsRun.stdout);
  } catch (error) {
    vectors = { error: `${error.message} ${noise(vectorsRun.stderr).slice(-800)}` };
  }
  const server = start(runtime.command, [`dist/${entry}.js`], {
    env: { PORT: "0", HOST: "127.0.0.1", KALLIMA_WEBHOOK_SECRET: SECRET },
  });
  try {
    const baseUrl = await waitForReadyLine(server);
    return { vectors, example: await checkExample(baseUrl, runtime.id) };
  } catch (error) {
    return { vectors, example: { error: error.message } };
  } finally {
    await stop(server);
  }
}

async function bundleWorker(entry, outfile, plugins = []) {
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "esm",
    target: "es2022",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    absWorkingDir: stageDir,
    metafile: true,
    logLevel: "error",
    plugins,
  });
  return Object.keys(result.metafile.inputs).filter((input) =>
    /crypto\/(web|node)\.js$/.test(input),
  );
}

async function runWorkerd(runtime) {
  const dir = await mkdtemp(join(tmpdir(), "kallima-workerd-"));
  try {
    const vectorsJson = await readFile(vectorsPath, "utf8");
    const vectorsModule = {
      name: "test-vectors",
      setup(build) {
        build.onResolve({ filter: /^kallima-test-vectors$/ }, () => ({
          path: "vectors",
          namespace: "vectors",
        }));
        build.onLoad({ filter: /.*/, namespace: "vectors" }, () => ({
          contents: `export default ${JSON.stringify(JSON.parse(vectorsJson))};`,
          loader: "js",
        }));
      },
    };
    const bundled = await bundleWorker(
      "runtime/vectors-worker.mjs",
      join(dir, "vectors-worker.js"),
      [vectorsModule],
    );
    const exampleBundled = await bundleWorker("src/worker.ts", join(dir, "worker.js"));
    const [examplePort, vectorsPort] = [await freePort(), await freePort()];
    // No nodejs_compat flag: the core must run on plain workerd, with Web Crypto only.
    await writeFile(
      join(dir, "config.capnp"),
      `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "example", worker = .exampleWorker),
    (name = "vectors", worker = .vectorsWorker),
  ],
  sockets = [
    (name = "example", address = "127.0.0.1:${examplePort}", http = (), service = "example"),
    (name = "vectors", address = "127.0.0.1:${vectorsPort}", http = (), service = "vectors"),
  ],
);

const exampleWorker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2025-06-01",
  bindings = [(name = "KALLIMA_WEBHOOK_SECRET", text = "${SECRET}")],
);

const vectorsWorker :Workerd.Worker = (
  modules = [(name = "vectors-worker.js", esModule = embed "vectors-worker.js")],
  compatibilityDate = "2025-06-01",
);
`,
    );
    const server = start(runtime.command, ["serve", join(dir, "config.capnp")], { cwd: dir });
    try {
      const response = await waitForHttp(`http://127.0.0.1:${vectorsPort}/`, server);
      let vectors;
      try {
        vectors = await response.json();
        vectors.runtime = `workerd ${runtime.command.at(-1).split("@")[1]}`;
        vectors.bundled = [...new Set([...bundled, ...exampleBundled])];
      } catch (error) {
        vectors = { error: error.message };
      }
      let example;
      try {
        example = await checkExample(`http://127.0.0.1:${examplePort}`, runtime.id);
      } catch (error) {
        example = { error: `${error.message} ${noise(server.output.stderr).slice(-800)}` };
      }
      return { vectors, example };
    } finally {
      await stop(server);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- main

const started = Date.now();
const stageDir = await stage();
process.on("exit", () => {
  if (!process.env.KALLIMA_KEEP_STAGE) rmSync(stageDir, { recursive: true, force: true });
});
console.log(
  `runtimes: ${runtimes.map((runtime) => runtime.id).join(", ")}; vectors: ${vectorsPath}`,
);

// Install (or find in the npx cache) every runtime at once: it is network-bound.
const installs = await Promise.all(
  runtimes.map(async (runtime) => {
    if (runtime.id === "node20") return { runtime, ok: true, version: process.version };
    const args = runtime.versionArgs ?? [...runtime.command, "--version"];
    const result = await run(args, [], { timeoutMs: INSTALL_TIMEOUT_MS });
    return {
      runtime,
      ok: result.code === 0,
      version: noise(result.stdout).split("\n")[0],
      detail: noise(result.stderr),
    };
  }),
);
console.log(`runtimes ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);

const rows = [];
for (const install of installs) {
  const { runtime } = install;
  const began = Date.now();
  let outcome;
  if (!install.ok) {
    outcome = {
      vectors: { error: `install failed: ${install.detail.slice(-400)}` },
      example: { error: "not run" },
    };
  } else {
    outcome =
      runtime.id === "workerd" ? await runWorkerd(runtime) : await runProcessRuntime(runtime);
  }
  rows.push({ runtime, install, ...outcome, seconds: (Date.now() - began) / 1000 });
}

const VECTOR_LISTS = [
  ["vectors", "X-Kallima-* vectors"],
  ["kallima_signature_vectors", "Kallima-Signature vectors"],
];
const vectorFailures = (v) =>
  VECTOR_LISTS.flatMap(([list]) => v.lists?.[list]?.failures ?? [`${list}: no report`]);
const vectorsCell = (v, list) => {
  if (v.error) return "ERROR";
  const report = v.lists?.[list];
  if (!report) return "ERROR";
  const passed = report.total - Math.min(report.total, report.failures.length);
  return `${passed}/${report.total} ${report.failures.length ? "FAIL" : "ok"}`;
};
const observabilityCell = (v) => {
  const report = v.observability;
  if (v.error || !report) return "ERROR";
  return `${report.total - Math.min(report.total, report.failures.length)}/${report.total} ${report.failures.length ? "FAIL" : "ok"}`;
};
const exampleCell = (e) =>
  e.error
    ? "ERROR"
    : `${e.total - e.failures.length}/${e.total} ${e.failures.length ? "FAIL" : "ok"}`;
const engineOk = (row) => row.vectors.engine === row.runtime.engine;
const rowOk = (row) =>
  !row.vectors.error &&
  !row.example.error &&
  vectorFailures(row.vectors).length === 0 &&
  row.vectors.observability?.failures.length === 0 &&
  row.example.failures.length === 0 &&
  engineOk(row);

const table = [
  [
    "runtime",
    "version",
    "HMAC engine (core)",
    ...VECTOR_LISTS.map(([, title]) => title),
    "onDelivery + OTel",
    "Hono example",
    "result",
  ],
  ...rows.map((row) => [
    row.runtime.name,
    row.vectors.runtime ?? row.install.version ?? "?",
    row.vectors.engine
      ? `${row.vectors.engine}${engineOk(row) ? "" : ` (expected ${row.runtime.engine})`}`
      : "?",
    ...VECTOR_LISTS.map(([list]) => vectorsCell(row.vectors, list)),
    observabilityCell(row.vectors),
    exampleCell(row.example),
    rowOk(row) ? "PASS" : "FAIL",
  ]),
];
const widths = table[0].map((_, column) => Math.max(...table.map((line) => line[column].length)));
const format = (line) =>
  `| ${line.map((cell, column) => cell.padEnd(widths[column])).join(" | ")} |`;
console.log("");
console.log(format(table[0]));
console.log(`|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`);
for (const line of table.slice(1)) console.log(format(line));
console.log("");

for (const row of rows) {
  if (row.vectors.bundled) {
    console.log(
      `${row.runtime.name}: worker bundles resolved #crypto to ${row.vectors.bundled.join(", ")}`,
    );
  }
  const problems = [
    ...(row.vectors.error
      ? [`vectors: ${row.vectors.error}`]
      : [
          ...vectorFailures(row.vectors).map((f) => `vector ${f}`),
          ...(row.vectors.observability?.failures ?? ["no report"]).map(
            (f) => `observability ${f}`,
          ),
        ]),
    ...(row.example.error
      ? [`example: ${row.example.error}`]
      : row.example.failures.map((f) => `example ${f}`)),
  ];
  for (const problem of problems) console.log(`${row.runtime.name}: ${problem}`);
}
const failed = rows.filter((row) => !rowOk(row));
console.log(
  `${rows.length - failed.length}/${rows.length} runtimes passed in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
process.exit(failed.length === 0 ? 0 : 1);
