// Starts the built app with `next start` and prints the examples' ready line once it answers,
// so that the demo and the tests drive this example like every other one (see examples/README.md).
// `--build` runs `next build` first.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const DEMO_SECRET = "whsec_kallimaDemoSecret_notForProduction_01";
const ROUTES = [
  "/kallima-events",
  "/kallima-events/edge",
  "/kallima-events/verify-only",
  "/api/kallima-events",
];

const appDir = fileURLToPath(new URL("..", import.meta.url));
const nextBin = createRequire(import.meta.url).resolve("next/dist/bin/next");
const host = process.env.HOST ?? "127.0.0.1";
const port = Number(process.env.PORT ?? 3103);

const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };
if (!env.KALLIMA_WEBHOOK_SECRET) {
  console.warn(
    "KALLIMA_WEBHOOK_SECRET is not set: using the demo secret. Never use it for a real endpoint.",
  );
  // Passed on so that each route bundle does not warn again.
  env.KALLIMA_WEBHOOK_SECRET = DEMO_SECRET;
}

let child;
const stop = (signal) => {
  if (child && child.exitCode === null) child.kill(signal);
  else process.exit(130);
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));

function run(args, stdio) {
  child = spawn(process.execPath, [nextBin, ...args], { cwd: appDir, env, stdio });
  return child;
}

if (process.argv.includes("--build")) {
  // Build output goes to stderr: stdout carries only what the examples' contract reads.
  const code = await new Promise((resolve) => {
    run(["build"], ["ignore", process.stderr, "inherit"]).on("exit", (exitCode, signal) =>
      resolve(exitCode ?? (signal ? 1 : 0)),
    );
  });
  if (code !== 0) process.exit(code);
}

const server = run(
  ["start", "--hostname", host, "--port", String(port)],
  ["ignore", process.stderr, "inherit"],
);
server.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

// Next prints its own banner before every route is loaded: wait until each webhook route answers.
const base = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
for (;;) {
  const answers = await Promise.all(
    ROUTES.map((route) =>
      fetch(`${base}${route}`, { signal: AbortSignal.timeout(5000) }).then(
        (response) => response.ok,
        () => false,
      ),
    ),
  );
  if (answers.every(Boolean)) break;
  await new Promise((resolve) => setTimeout(resolve, 200));
}
console.log(`listening on http://${host}:${port}`);
