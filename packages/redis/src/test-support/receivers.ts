import { type ChildProcess, spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { ConformanceRequest, ConformanceResponse } from "@kallima/webhooks-conformance";
import { build } from "esbuild";
import type { ClientKind } from "./clients.js";

let bundle: Promise<string> | undefined;

// Node 20 cannot run TypeScript, so the receiver is bundled from source (the store included)
// next to this package's node_modules, where its external imports resolve.
function receiverBundle(): Promise<string> {
  bundle ??= (async () => {
    const outfile = fileURLToPath(
      new URL(
        `../../node_modules/.cache/kallima-redis-tests/receiver-${process.pid}-${Date.now()}.mjs`,
        import.meta.url,
      ),
    );
    await build({
      entryPoints: [fileURLToPath(new URL("./receiver.ts", import.meta.url))],
      outfile,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      packages: "external",
      logLevel: "silent",
    });
    return outfile;
  })();
  return bundle;
}

/** Deletes the bundled receiver. */
export async function removeReceiverBundle(): Promise<void> {
  if (bundle) await rm(await bundle, { force: true });
  bundle = undefined;
}

export interface ReceiverOptions {
  redisUrl: string;
  client: ClientKind;
  keyPrefix: string;
  secret: string;
  leaseSeconds?: number;
}

/** A receiver running in its own Node process, on its own port. */
export class Receiver {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
  ) {}

  static async start(options: ReceiverOptions): Promise<Receiver> {
    const child = spawn(process.execPath, [await receiverBundle()], {
      env: {
        ...process.env,
        REDIS_URL: options.redisUrl,
        CLIENT_KIND: options.client,
        KEY_PREFIX: options.keyPrefix,
        SECRET: options.secret,
        ...(options.leaseSeconds ? { LEASE_SECONDS: String(options.leaseSeconds) } : {}),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once("exit", (code, signal) => resolve({ code, signal })),
    );
    let output = "";
    const port = await new Promise<number>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const ready = /READY (\d+)/.exec(output);
        if (ready) resolve(Number(ready[1]));
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", onData);
      child.once("error", reject);
      void exited.then(({ code, signal }) =>
        reject(new Error(`receiver exited (${code ?? signal}) before it was ready:\n${output}`)),
      );
    });
    return new Receiver(child, port, exited);
  }

  /** Delivers a request over HTTP; rejects when the connection drops (the process crashed). */
  async send(request: ConformanceRequest): Promise<ConformanceResponse> {
    const response = await fetch(`http://127.0.0.1:${this.port}/kallima-events`, {
      method: request.method ?? "POST",
      headers: request.headers,
      body: request.body,
    });
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: await response.text(),
    };
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 3000);
    await this.exited;
    clearTimeout(timer);
  }
}
