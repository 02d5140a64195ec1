import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { KALLIMA_SECRET } from "../payload.js";
import { PACKAGE_DIR, type RunningServer, startProcess } from "./load.js";

const APP_DIR = join(PACKAGE_DIR, "next-app");
const NEXT_BIN = join(PACKAGE_DIR, "node_modules", "next", "dist", "bin", "next");
const env = {
  KALLIMA_WEBHOOK_SECRET: KALLIMA_SECRET,
  NEXT_TELEMETRY_DISABLED: "1",
  NODE_ENV: "production",
};

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(
    stat.mtimeMs,
    ...readdirSync(path).map((entry) => newestMtime(join(path, entry))),
  );
}

/** The build is stale when the app, the adapter or the core changed after it. */
function needsBuild(): boolean {
  const buildId = join(APP_DIR, ".next", "BUILD_ID");
  if (!existsSync(buildId)) return true;
  const built = statSync(buildId).mtimeMs;
  const inputs = [
    join(APP_DIR, "app"),
    join(APP_DIR, "next.config.mjs"),
    join(PACKAGE_DIR, "node_modules", "@kallima", "webhooks-next", "dist"),
    join(PACKAGE_DIR, "node_modules", "@kallima", "webhooks", "dist"),
  ];
  return inputs.some((input) => newestMtime(input) > built);
}

let built: Promise<void> | undefined;

/** `next build` of next-app, once per process and only when its inputs changed. */
export function buildNextApp(log: (line: string) => void): Promise<void> {
  built ??= (async () => {
    if (!needsBuild()) return;
    log("http Next.js: next build (next-app) …");
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [NEXT_BIN, "build"], {
        cwd: APP_DIR,
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString("utf8");
      });
      child.stderr.on("data", (chunk: Buffer) => {
        output += chunk.toString("utf8");
      });
      child.once("error", reject);
      child.once("exit", (code) =>
        code === 0
          ? resolve()
          : reject(new Error(`next build failed (${code}):\n${output.slice(-4000)}`)),
      );
    });
    log(`http Next.js: built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  })();
  return built;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** `next start` on loopback; the floor and the adapter are two routes of the same app. */
export async function startNext(
  mode: "floor" | "adapter",
  log: (line: string) => void,
): Promise<RunningServer> {
  await buildNextApp(log);
  const port = await freePort();
  return startProcess({
    command: process.execPath,
    args: [NEXT_BIN, "start", "--port", String(port), "--hostname", "127.0.0.1"],
    cwd: APP_DIR,
    env,
    readyPattern: /Ready in/,
    timeoutMs: 60_000,
    port,
    webhookPath: mode === "floor" ? "/floor" : "/webhook",
    statsPath: "/stats",
  });
}
