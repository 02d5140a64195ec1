import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { createWebhookHandler } from "@kallima/webhooks";
import { handleNodeRequest } from "@kallima/webhooks/node";
import type { CliIO } from "./cli.js";

export const SECRET = "whsec_cliTestSecret_0123456789abcdef";

/**
 * A real Node server running core's handler; `ran` lists the events whose handler ran, and
 * `requests` the signature headers each POST carried (to tell which format was sent).
 */
export interface TestEndpoint {
  url: string;
  ran: { id: string; type: string; data: unknown }[];
  requests: Record<string, string | undefined>[];
  close(): Promise<void>;
}

const SIGNATURE_HEADERS = ["kallima-signature", "x-kallima-signature", "x-kallima-timestamp"];

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/kallima-events`, server };
}

function closer(server: Server): () => Promise<void> {
  return () =>
    new Promise((resolve, reject) => {
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    });
}

export async function startEndpoint(): Promise<TestEndpoint> {
  const ran: TestEndpoint["ran"] = [];
  const record = (event: { id: string; type: string; data: unknown }) => {
    ran.push({ id: event.id, type: event.type, data: event.data });
  };
  const requests: TestEndpoint["requests"] = [];
  const webhooks = createWebhookHandler({
    secret: SECRET,
    on: {
      "job.completed": record,
      "job.failed": record,
      "webhook.test": record,
      "humanization.completed": record,
      "humanization.failed": record,
      "structure_prediction.completed": record,
      "structure_prediction.failed": record,
    },
  });
  const { url, server } = await listen((req, res) => {
    const seen: Record<string, string | undefined> = {};
    for (const name of SIGNATURE_HEADERS) {
      const value = req.headers[name];
      if (value !== undefined) seen[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    requests.push(seen);
    void handleNodeRequest(webhooks, req, res);
  });
  return { url, ran, requests, close: closer(server) };
}

/** An endpoint that answers every request with `status`, whatever it is sent. */
export async function startFixedEndpoint(
  status: number,
): Promise<{ url: string; close(): Promise<void> }> {
  const { url, server } = await listen((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(status, { "content-type": "text/plain" }).end("fixed"));
  });
  return { url, close: closer(server) };
}

/** An unused local URL: a server was there and is closed. */
export async function closedUrl(): Promise<string> {
  const { url, server } = await listen((_req, res) => res.end());
  await closer(server)();
  return url;
}

export interface CapturedIO extends CliIO {
  out(): string;
  err(): string;
}

export function captureIO(
  options: { stdin?: string | Buffer; env?: Record<string, string | undefined> } = {},
): CapturedIO {
  let out = "";
  let err = "";
  const stdin =
    options.stdin === undefined
      ? Object.assign(Readable.from([]), { isTTY: true })
      : Readable.from([Buffer.from(options.stdin)]);
  return {
    stdout: {
      write: (chunk: string) => {
        out += chunk;
        return true;
      },
    },
    stderr: {
      write: (chunk: string) => {
        err += chunk;
        return true;
      },
    },
    stdin,
    env: options.env ?? {},
    out: () => out,
    err: () => err,
  };
}

/** The built executable, as npm links it: `turbo run test` builds first. */
export const BUILT_BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

/** A `kallima-webhooks dev` process. */
export interface RunningDev {
  url: string;
  child: ChildProcess;
  /** What it printed, stdout and stderr, line by line. */
  lines: string[];
  /** Sends SIGTERM; resolves to the exit code. */
  stop(): Promise<number | null>;
}

/** `kallima-webhooks dev …` as its own process, once it prints its ready line. */
export function startDev(args: string[]): Promise<RunningDev> {
  const child = spawn(process.execPath, [BUILT_BIN, "dev", "--port", "0", ...args], {
    env: { PATH: process.env.PATH ?? "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  createInterface({ input: child.stderr! }).on("line", (line) => lines.push(line));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line: ${lines.join("\n")}`)), 20_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      lines.push(line);
      const ready = /^listening on (http:\/\/\S+)$/.exec(line);
      if (ready) {
        clearTimeout(timer);
        resolve({
          url: ready[1]!,
          child,
          lines,
          stop: () => {
            child.kill("SIGTERM");
            return exited;
          },
        });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`dev exited (${code}) before it was ready: ${lines.join("\n")}`));
    });
  });
}

/**
 * A receiver running the core's handler with the secrets it is given: deployed before the
 * endpoint is registered, it holds one Kallima never issued until `useSecrets`.
 */
export async function startIssuedSecretReceiver() {
  let secrets: string[] = ["whsec_notIssuedYet_00000000000000000000"];
  const ran: { id: string; type: string; data: Record<string, unknown> }[] = [];
  const record = (event: { id: string; type: string; data: unknown }) => {
    ran.push({ id: event.id, type: event.type, data: event.data as Record<string, unknown> });
  };
  const handler = createWebhookHandler({
    secret: () => secrets,
    on: { "job.completed": record, "job.failed": record, "webhook.test": record },
    logger: { warn: () => undefined, error: () => undefined },
  });
  const { url, server } = await listen((req, res) => void handleNodeRequest(handler, req, res));
  return {
    url,
    ran,
    /** The secrets it accepts from now on (during a rotation: the new one beside the old). */
    useSecrets(...next: string[]) {
      secrets = next;
    },
    close: closer(server),
  };
}
