import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { signPayload } from "@kallima/webhooks-next/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// One `next build` without KALLIMA_WEBHOOK_SECRET (as Docker and CI builds run: the secret comes
// at run time), then `next start` on free ports: with the secret, through the example's start
// script (the Node.js, Edge, verify-only and Pages routes are driven over real HTTP), and
// without any secret, straight from `next start`.

const appDir = fileURLToPath(new URL("..", import.meta.url));
const nextBin = createRequire(import.meta.url).resolve("next/dist/bin/next");
const SECRET = "whsec_nextExampleEndToEndSecret_0123456789ab";
const DEMO_SECRET = "whsec_kallimaDemoSecret_notForProduction_01";
/** The secret a rotation issued: the app is started holding it beside the old one. */
const ROTATED_SECRET = "whsec_nextExampleRotatedSecret_0123456789ab";
// Vitest sets NODE_ENV=test; `next build` and `next start` pick their own.
const { NODE_ENV: _vitestNodeEnv, ...inherited } = process.env;
const env: Record<string, string | undefined> = { ...inherited, NEXT_TELEMETRY_DISABLED: "1" };
// Never from the environment the tests run in: each run says whether it has a secret.
delete env.KALLIMA_WEBHOOK_SECRET;

const ROUTES = [
  { name: "App Router, Node.js runtime", path: "/kallima-events" },
  { name: "App Router, Edge runtime", path: "/kallima-events/edge" },
  { name: "App Router, verify-only route", path: "/kallima-events/verify-only" },
  { name: "Pages Router", path: "/api/kallima-events" },
] as const;

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

interface Running {
  base: string;
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
}

/**
 * Starts the built example with its start script and waits for the contract's ready line.
 * `direct` runs `next start` itself instead (no demo secret fallback), ready once a route answers.
 */
async function start(
  extraEnv: Record<string, string | undefined>,
  { direct = false } = {},
): Promise<Running> {
  const port = await freePort();
  const childEnv: Record<string, string | undefined> = { ...env, PORT: String(port), ...extraEnv };
  delete childEnv.HOST;
  for (const [name, value] of Object.entries(childEnv))
    if (value === undefined) delete childEnv[name];
  const args = direct
    ? [nextBin, "start", "--hostname", "127.0.0.1", "--port", String(port)]
    : ["scripts/start.mjs"];
  const child = spawn(process.execPath, args, {
    cwd: appDir,
    env: childEnv as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so that the server it spawns is stopped with it.
    detached: true,
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const base = `http://127.0.0.1:${port}`;
  const ready = `listening on ${base}`;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line in 60 s:\n${stderr}`)), 60_000);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    if (direct) {
      const poll = () =>
        fetch(`${base}${ROUTES[0].path}`).then(
          (response) => (response.ok ? done() : setTimeout(poll, 200)),
          () => child.exitCode === null && setTimeout(poll, 200),
        );
      poll();
    }
    child.stdout?.on("data", () => {
      if (stdout.includes(ready)) done();
    });
    child.on("exit", (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`the example exited with ${code} before it was ready:\n${stderr}`));
    });
  });
  return { base, child, stdout: () => stdout, stderr: () => stderr };
}

async function stop(running: Running | undefined): Promise<void> {
  if (!running || running.child.exitCode !== null || running.child.pid === undefined) return;
  const exited = once(running.child, "exit");
  process.kill(-running.child.pid, "SIGTERM");
  await exited;
}

const eventBody = (id: string, type = "job.completed") =>
  JSON.stringify({
    id,
    type,
    api_version: "2026-04-23",
    created_at: new Date().toISOString(),
    data: { id: `job_${id}`, status: "completed" },
  });

async function post(url: string, body: string, headers: Record<string, string>) {
  const response = await fetch(url, { method: "POST", headers, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function listed(url: string): Promise<{ id: string; type: string }[]> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return ((await response.json()) as { events: { id: string; type: string }[] }).events;
}

let app: Running | undefined;
let build: { code: number | null; output: string } | undefined;

beforeAll(async () => {
  // KALLIMA_NEXT_BUILD_FLAGS=--webpack builds with webpack (Next.js 15's default) instead of Turbopack.
  const flags = process.env.KALLIMA_NEXT_BUILD_FLAGS?.split(/\s+/).filter(Boolean) ?? [];
  // `env` has no KALLIMA_WEBHOOK_SECRET: Next.js evaluates the route modules while it builds.
  const child = spawn(process.execPath, [nextBin, "build", ...flags], {
    cwd: appDir,
    env: env as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk;
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk;
  });
  const [code] = (await once(child, "exit")) as [number | null];
  build = { code, output };
  if (code !== 0) {
    throw new Error(`next build failed without KALLIMA_WEBHOOK_SECRET (${code}):\n${output}`);
  }
  // During a rotation: the new secret beside the old one, comma-separated.
  app = await start({ KALLIMA_WEBHOOK_SECRET: `${ROTATED_SECRET},${SECRET}` });
}, 280_000);

afterAll(async () => {
  await stop(app);
});

describe.each(ROUTES)("$name: POST $path", ({ path }) => {
  const url = () => `${app!.base}${path}`;
  const prefix = `evt_e2e_${path.replace(/\W+/g, "_")}`;

  it("handles a signed delivery once, acknowledges its repeat, and lists it", async () => {
    const body = eventBody(`${prefix}_ok`);
    const { headers } = await signPayload({ secret: SECRET, payload: body });

    expect(await post(url(), body, headers)).toEqual({
      status: 200,
      body: { received: true, outcome: "handled" },
    });
    expect(await post(url(), body, headers)).toEqual({
      status: 200,
      body: { received: true, outcome: "duplicate" },
    });
    expect(await listed(url())).toEqual([{ id: `${prefix}_ok`, type: "job.completed" }]);
  });

  it("rejects a tampered body with 401 invalid_signature and runs nothing", async () => {
    const body = eventBody(`${prefix}_tampered`);
    const { headers } = await signPayload({ secret: SECRET, payload: body });
    const tampered = body.replace(`job_${prefix}_tampered`, "job_someone_else");

    const answer = await post(url(), tampered, headers);
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ error: { code: "invalid_signature" } });
    expect((await listed(url())).map((event) => event.id)).not.toContain(`${prefix}_tampered`);
  });

  it("rejects a stale delivery with 401 timestamp_too_old", async () => {
    const body = eventBody(`${prefix}_stale`);
    const { headers } = await signPayload({
      secret: SECRET,
      payload: body,
      timestamp: Math.floor(Date.now() / 1000) - 600,
    });

    const answer = await post(url(), body, headers);
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ error: { code: "timestamp_too_old" } });
    expect((await listed(url())).map((event) => event.id)).not.toContain(`${prefix}_stale`);
  });

  it("accepts a delivery signed with either of its comma-separated secrets", async () => {
    const body = eventBody(`${prefix}_rotated`);
    const { headers } = await signPayload({ secret: ROTATED_SECRET, payload: body });
    expect((await post(url(), body, headers)).status).toBe(200);
    expect((await listed(url())).map((event) => event.id)).toContain(`${prefix}_rotated`);
  });

  it("rejects a delivery signed with another secret", async () => {
    const body = eventBody(`${prefix}_demo`);
    const { headers } = await signPayload({ secret: DEMO_SECRET, payload: body });
    expect((await post(url(), body, headers)).status).toBe(401);
  });

  it("acknowledges an authentic event of an unknown type without listing it", async () => {
    const body = eventBody(`${prefix}_new`, "humanization.completed");
    const { headers } = await signPayload({ secret: SECRET, payload: body });
    // The example logs such events in onUnhandled, so core reports them as handled there.
    expect(await post(url(), body, headers)).toMatchObject({
      status: 200,
      body: { received: true },
    });
    expect((await listed(url())).map((event) => event.id)).not.toContain(`${prefix}_new`);
  });
});

describe("the example app", () => {
  it("builds without KALLIMA_WEBHOOK_SECRET, as Docker and CI builds do", () => {
    expect("KALLIMA_WEBHOOK_SECRET" in env).toBe(false);
    expect(build?.code, build?.output).toBe(0);
  });

  it("answers 500 invalid_secret on every route, and logs it, when served without a secret", async () => {
    // Straight from `next start`: the start script would fall back to the demo secret.
    const bare = await start({}, { direct: true });
    try {
      for (const { path } of ROUTES) {
        const body = eventBody(`evt_e2e_nosecret_${path.replace(/\W+/g, "_")}`);
        const { headers } = await signPayload({ secret: SECRET, payload: body });
        const answer = await post(`${bare.base}${path}`, body, headers);
        expect(answer.status, path).toBe(500);
        expect(answer.body, path).toMatchObject({ error: { code: "invalid_secret" } });
      }
      // The core's log line (console.error by default), once per route; the pipe may lag the answer.
      const logged = () => bare.stderr().match(/\[kallima-webhooks\] 500 invalid_secret/g) ?? [];
      await expect.poll(() => logged().length, { timeout: 5000 }).toBe(ROUTES.length);
      expect(bare.stderr()).not.toContain(SECRET);
    } finally {
      await stop(bare);
    }
  }, 90_000);

  it("prints only the ready line on stdout", () => {
    expect(app!.stdout()).toBe(`listening on ${app!.base}\n`);
  });

  it("serves the page that lists the last events", async () => {
    const response = await fetch(`${app!.base}/`);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain("Kallima webhooks on Next.js");
    for (const { path } of ROUTES) expect(html).toContain(path);
  });

  it("builds the Edge route with core's Web Crypto engine and nothing Node-only", async () => {
    const manifest = JSON.parse(
      await readFile(`${appDir}/.next/server/middleware-manifest.json`, "utf8"),
    ) as { functions: Record<string, { files: string[] }> };
    const edge = manifest.functions["/kallima-events/edge/route"];
    expect(edge).toBeDefined();
    // String literals survive bundling and minifying, with Turbopack as with webpack.
    let code = "";
    for (const file of edge!.files.filter((name) => name.endsWith(".js"))) {
      code += await readFile(`${appDir}/.next/${file}`, "utf8");
    }
    expect(code).toContain("x-kallima-signature");
    expect(code).toContain('"web-crypto"'); // the engine name of core's dist/crypto/web.js
    expect(code).not.toContain('"node:crypto"'); // ... and of dist/crypto/node.js
    expect(code).not.toContain("Mount the webhook route before any body parser"); // core/node
    expect(code).not.toContain("bodyParser: false"); // @kallima/webhooks-next/pages
  });

  it("falls back to the demo secret with a warning on stderr when none is set", async () => {
    const demo = await start({ KALLIMA_WEBHOOK_SECRET: undefined });
    try {
      expect(demo.stderr()).toContain("KALLIMA_WEBHOOK_SECRET is not set");
      for (const { path } of ROUTES) {
        const body = eventBody(`evt_e2e_demo_${path.replace(/\W+/g, "_")}`, "webhook.test");
        const { headers } = await signPayload({ secret: DEMO_SECRET, payload: body });
        expect((await post(`${demo.base}${path}`, body, headers)).status).toBe(200);
      }
    } finally {
      await stop(demo);
    }
  }, 90_000);
});
