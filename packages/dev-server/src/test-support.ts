import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebhookSignatureError, WebhookVerifier } from "@kallima/webhooks";

/** One request a test receiver got, and what it made of it. */
export interface ReceivedDelivery {
  headers: IncomingHttpHeaders;
  body: string;
  /** The event id and type when the signature verified, else the verifier's error code. */
  verdict: { ok: true; id: string; type: string } | { ok: false; code: string };
}

/** A receiver on a real socket that verifies with the core and answers what `answer` says. */
export interface TestReceiver {
  url: string;
  received: ReceivedDelivery[];
  /** The secrets it accepts; change them to model a receiver's configuration. */
  secrets: string[];
  close(): Promise<void>;
}

/**
 * Starts a receiver. `answer` picks the status from the delivery (default: 200 when the signature
 * verifies, 401 otherwise); it may also wait, to model a slow endpoint.
 */
export async function startReceiver(
  answer: (delivery: ReceivedDelivery, index: number) => number | Promise<number> = (delivery) =>
    delivery.verdict.ok ? 200 : 401,
): Promise<TestReceiver> {
  const receiver: TestReceiver = {
    url: "",
    received: [],
    secrets: [],
    close: async () => undefined,
  };
  const server: Server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    let verdict: ReceivedDelivery["verdict"];
    try {
      const verifier = new WebhookVerifier({ secret: receiver.secrets });
      const event = await verifier.verify({ payload: body, headers: request.headers });
      verdict = { ok: true, id: event.id, type: event.type };
    } catch (error) {
      verdict = {
        ok: false,
        code: error instanceof WebhookSignatureError ? error.code : String(error),
      };
    }
    const delivery = { headers: request.headers, body, verdict };
    receiver.received.push(delivery);
    let status = 500;
    try {
      status = await answer(delivery, receiver.received.length - 1);
    } catch {
      // The connection was closed by the sender (timeout): nothing to answer.
    }
    if (!response.destroyed) {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify({ status, verdict }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  receiver.url = `http://127.0.0.1:${port}/kallima-events`;
  receiver.close = () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return receiver;
}

/** A JSON call to the dev server's API, as a client would make it. */
export async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      accept: "application/json",
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text === "" ? undefined : JSON.parse(text),
  };
}

/** Waits until `condition` holds, polling; fails with `what` after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
