import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BINARY = process.env.REDIS_SERVER_BIN ?? "redis-server";

/**
 * True when a `redis-server` can be run. Outside CI a missing server skips the Redis tests with
 * a loud warning; in CI (`CI` set) it throws, so that a skipped suite can never pass for green.
 * Shared by every package whose tests need a real Redis (redis store, BullMQ queue, CLI).
 *
 * @example
 * ```ts
 * const available = redisServerAvailable();
 * describe.skipIf(!available)("against a real redis-server", () => { ... });
 * ```
 */
export function redisServerAvailable(): boolean {
  const probe = spawnSync(BINARY, ["--version"], { encoding: "utf8" });
  if (probe.status === 0) return true;
  const reason = probe.error ? probe.error.message : probe.stderr;
  const message = `cannot run "${BINARY}" (${reason.trim()}). Install it with \`apt-get install -y redis-server\` (or \`brew install redis\`), or point REDIS_SERVER_BIN at it.`;
  const ci = process.env.CI;
  if (ci && ci !== "0" && ci.toLowerCase() !== "false")
    throw new Error(`${message} CI is set, so the Redis tests fail instead of skipping.`);
  const line = "!".repeat(100);
  console.warn(`\n${line}\n${message}\nTHE TESTS THAT NEED A REDIS SERVER ARE SKIPPED.\n${line}\n`);
  return false;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

export interface RedisServerOptions {
  /**
   * Runs in cluster mode (its cluster config in a temporary folder). The node starts with no
   * slots: the test assigns them (`CLUSTER ADDSLOTSRANGE 0 16383`) to make a one-node cluster.
   */
  cluster?: boolean;
}

/** A throwaway `redis-server` on 127.0.0.1 with persistence off, which can be stopped and restarted. */
export class RedisServer {
  private process: ChildProcess | undefined;
  private clusterDir: string | undefined;

  private constructor(
    readonly port: number,
    private readonly options: RedisServerOptions,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    let lastError: unknown;
    // The port is free when picked but may be taken before the server binds it: pick again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const server = new RedisServer(await freePort(), options);
      try {
        await server.start();
        return server;
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }

  /** Starts (or restarts, on the same port) the server; resolves once it accepts connections. */
  async start(): Promise<void> {
    if (this.process) return;
    const args = [
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
    ];
    if (this.options.cluster) {
      // Cluster mode writes nodes.conf: keep it out of the work tree.
      this.clusterDir ??= mkdtempSync(join(tmpdir(), "kallima-redis-cluster-"));
      args.push(
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        join(this.clusterDir, "nodes.conf"),
        "--cluster-announce-ip",
        "127.0.0.1",
      );
    }
    const child = spawn(BINARY, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (/Ready to accept connections/.test(output)) resolve();
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", onData);
      child.once("error", reject);
      child.once("exit", (code) =>
        reject(new Error(`redis-server exited with ${code} before it was ready:\n${output}`)),
      );
    });
    this.process = child;
  }

  /** Stops the server at once (SIGKILL, as when a Redis host dies) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.process;
    if (!child) return;
    this.process = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
  }

  /** Stops the server for good and deletes its cluster config, if any. */
  async remove(): Promise<void> {
    await this.stop();
    if (this.clusterDir) rmSync(this.clusterDir, { recursive: true, force: true });
    this.clusterDir = undefined;
  }
}
