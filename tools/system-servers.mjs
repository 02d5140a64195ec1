#!/usr/bin/env node
// Makes sure the system programs some tests start for real are on this machine: redis-server
// (packages/redis, packages/bullmq, the CLI's queue commands) and Chromium (the dev server's page).
// As root with apt-get (a fresh Debian or Ubuntu machine, CI included) it installs what is missing,
// so that `pnpm run verify` runs every test there. Elsewhere it says what to install; the tests
// that need it then skip with a warning, or fail when CI is set.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const programs = [
  {
    name: "redis-server",
    aptPackage: "redis-server",
    present: () => runs(process.env.REDIS_SERVER_BIN ?? "redis-server", ["--version"]),
  },
  {
    name: "chromium",
    aptPackage: "chromium",
    present: () => existsSync(process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"),
  },
];

function runs(command, args) {
  return spawnSync(command, args, { stdio: "ignore" }).status === 0;
}

const missing = programs.filter((program) => !program.present());
if (missing.length === 0) process.exit(0);

const names = missing.map((program) => program.name).join(", ");
const canInstall = process.getuid?.() === 0 && runs("apt-get", ["--version"]);
if (!canInstall) {
  console.warn(
    `Missing: ${names}. Install ${missing.map((p) => p.aptPackage).join(" ")} (apt-get install -y …, or your system's packages): the tests that need them skip without CI and fail with CI set.`,
  );
  process.exit(0);
}

console.log(`installing ${names} with apt-get (needed by tests that start them)`);
const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
const update = spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
const install =
  update.status === 0 &&
  spawnSync("apt-get", ["install", "-y", "-qq", ...missing.map((p) => p.aptPackage)], {
    stdio: ["ignore", "ignore", "inherit"],
    env,
  }).status === 0;
const stillMissing = missing.filter((program) => !program.present());
if (!install || stillMissing.length > 0) {
  console.error(`Could not install ${stillMissing.map((p) => p.name).join(", ") || names}.`);
  process.exit(1);
}
