import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
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
