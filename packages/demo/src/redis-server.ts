import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";

/** A `redis-server` the demo started for itself: in memory only, on a free local port. */
export interface DemoRedis {
  readonly url: string;
  readonly port: number;
  /** Stops the server and waits for it to exit. */
  stop(): Promise<void>;
}

/** Why no Redis could be started (no binary, or it would not start), for the demo's skip line. */
export class RedisUnavailableError extends Error {
  readonly code = "redis_unavailable";
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no free port");
  return address.port;
}

function startOn(binary: string, port: number): Promise<ChildProcess> {
  // No RDB or AOF file: a throwaway server leaves nothing behind in the working directory.
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/Ready to accept connections/.test(output)) resolve(child);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("error", reject);
    child.once("exit", (code) =>
      reject(new Error(`redis-server exited with ${code} before it was ready: ${output.trim()}`)),
    );
  });
}

/**
 * Starts a throwaway `redis-server` (`REDIS_SERVER_BIN`, else the one on PATH) for the demo's
 * BullMQ section, or throws {@link RedisUnavailableError} saying why it cannot.
 */
export async function startDemoRedis(
  binary = process.env.REDIS_SERVER_BIN ?? "redis-server",
): Promise<DemoRedis> {
  const probe = spawnSync(binary, ["--version"], { encoding: "utf8" });
  if (probe.status !== 0) {
    const reason = (probe.error?.message ?? probe.stderr).trim();
    throw new RedisUnavailableError(`cannot run "${binary}" (${reason})`);
  }
  let lastError: unknown;
  // The port is free when picked but may be taken before the server binds it: pick again.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      const child = await startOn(binary, port);
      return {
        port,
        url: `redis://127.0.0.1:${port}`,
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = once(child, "exit");
          child.kill("SIGTERM");
          await exited;
        },
      };
    } catch (error) {
      lastError = error;
    }
  }
  throw new RedisUnavailableError(
    `"${binary}" would not start: ${lastError instanceof Error ? lastError.message : lastError}`,
  );
}
