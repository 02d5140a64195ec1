import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A real HTTP server answering Kallima's endpoints API in the shapes of PROTOCOL.md, for tests:
 * webhook objects (secret only at creation and rotation), delivery records, problem+json errors.
 * `script` makes the next requests fail on purpose (429 with Retry-After, 500, a reset socket, no
 * answer at all) before the API is consulted.
 */
export interface TestApiServer {
  /** E.g. `http://127.0.0.1:40123`. */
  baseUrl: string;
  apiKey: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Answers to give before routing, one per request, first in first out. */
  script: ScriptedAnswer[];
  /** Answer lists as `{ object: "list", data }` instead of a bare array. */
  listEnvelope: boolean;
  /** Secrets of each webhook that are valid now (rotation replaces them). */
  secretOf(webhookId: string): string | undefined;
  close(): Promise<void>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  /** `performance.now()` when it arrived. */
  at: number;
}

export type ScriptedAnswer =
  | {
      status: number;
      headers?: Record<string, string>;
      body?: unknown;
      raw?: string;
      /** Answer this long after the request arrived. */
      delayMs?: number;
    }
  | { hang: true }
  | { reset: true };

interface StoredWebhook {
  id: string;
  object: "webhook";
  url: string;
  enabled: boolean;
  events: string[] | null;
  created_at: string;
  updated_at: string;
  secret: string;
}

interface StoredDelivery {
  id: string;
  object: "webhook_delivery";
  webhook_id: string;
  event_id: string;
  event_type: string;
  created_at: string;
  payload: unknown;
  response_status: number | null;
  response_body: string | null;
  attempts: number;
  delivered_at: string | null;
}

const PROBLEM_BASE = "https://docs.kallima.example/problems";

class Problem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

export async function startTestApiServer(
  options: { apiKey?: string } = {},
): Promise<TestApiServer> {
  const apiKey = options.apiKey ?? `kal_test_${randomBytes(12).toString("hex")}`;
  const webhooks = new Map<string, StoredWebhook>();
  const deliveries = new Map<string, StoredDelivery>();
  const requests: RecordedRequest[] = [];
  const script: ScriptedAnswer[] = [];
  let clock = Date.parse("2026-04-23T10:00:00Z");
  // Distinct, increasing times, so that "newest first" is well defined.
  const now = () => {
    clock += 1000;
    return new Date(clock).toISOString();
  };
  const state = { listEnvelope: false };

  const publicWebhook = ({ secret: _secret, ...hook }: StoredWebhook) => hook;
  const list = <T>(items: T[]) => (state.listEnvelope ? { object: "list", data: items } : items);
  const findWebhook = (id: string) => {
    const hook = webhooks.get(id);
    if (!hook) throw new Problem(404, "not_found", "Not found", `No webhook ${id}.`);
    return hook;
  };
  const readEvents = (value: unknown): string[] | null => {
    if (value === null || value === undefined) return null;
    if (!Array.isArray(value) || !value.every((type) => typeof type === "string" && type !== "")) {
      throw new Problem(
        400,
        "invalid_events",
        "Invalid events",
        "events must be a list of event types.",
      );
    }
    // An empty list means every type, and is answered as null.
    return value.length === 0 ? null : value;
  };
  const readUrl = (value: unknown): string => {
    if (typeof value !== "string" || !/^https?:\/\/./.test(value)) {
      throw new Problem(400, "invalid_url", "Invalid URL", "url must be an http(s) URL.");
    }
    return value;
  };
  const newSecret = () => `whsec_${randomBytes(24).toString("base64url")}`;
  const record = (hook: StoredWebhook, type: string): StoredDelivery => {
    const created = now();
    const delivery: StoredDelivery = {
      id: randomUUID(),
      object: "webhook_delivery",
      webhook_id: hook.id,
      event_id: `evt_${randomBytes(8).toString("hex")}`,
      event_type: type,
      created_at: created,
      payload: { type, data: { webhook_id: hook.id } },
      response_status: 200,
      response_body: '{"received":true}',
      attempts: 1,
      delivered_at: created,
    };
    deliveries.set(delivery.id, delivery);
    return delivery;
  };

  const route = (method: string, path: string, query: URLSearchParams, body: unknown) => {
    const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
    const input = (body ?? {}) as Record<string, unknown>;
    if (parts[0] !== "v1") throw new Problem(404, "not_found", "Not found", `No route ${path}.`);
    if (parts[1] === "webhooks" && parts.length === 2) {
      if (method === "GET") {
        const newest = [...webhooks.values()].reverse().map(publicWebhook);
        return { status: 200, body: list(newest) };
      }
      if (method === "POST") {
        const created = now();
        const hook: StoredWebhook = {
          id: randomUUID(),
          object: "webhook",
          url: readUrl(input.url),
          enabled: input.enabled === undefined ? true : input.enabled === true,
          events: readEvents(input.events),
          created_at: created,
          updated_at: created,
          secret: newSecret(),
        };
        webhooks.set(hook.id, hook);
        return { status: 201, body: hook };
      }
    }
    if (parts[1] === "webhooks" && parts.length === 3) {
      const hook = findWebhook(parts[2]!);
      if (method === "GET") return { status: 200, body: publicWebhook(hook) };
      if (method === "PATCH") {
        if (input.url !== undefined) hook.url = readUrl(input.url);
        if (input.events !== undefined) hook.events = readEvents(input.events);
        if (input.enabled !== undefined) hook.enabled = input.enabled === true;
        hook.updated_at = now();
        if (query.get("rotate_secret") === "true") {
          hook.secret = newSecret();
          return { status: 200, body: { ...hook } };
        }
        return { status: 200, body: publicWebhook(hook) };
      }
      if (method === "DELETE") {
        webhooks.delete(hook.id);
        return { status: 204 };
      }
    }
    if (parts[1] === "webhooks" && parts.length === 4) {
      const hook = findWebhook(parts[2]!);
      if (parts[3] === "test" && method === "POST") {
        return { status: 200, body: record(hook, "webhook.test") };
      }
      if (parts[3] === "deliveries" && method === "GET") {
        const limit = Number(query.get("limit") ?? "20");
        const mine = [...deliveries.values()].filter((d) => d.webhook_id === hook.id).reverse();
        return { status: 200, body: list(mine.slice(0, limit)) };
      }
    }
    if (parts[1] === "webhook_deliveries" && parts.length === 4 && parts[3] === "retry") {
      const delivery = deliveries.get(parts[2]!);
      if (!delivery) throw new Problem(404, "not_found", "Not found", `No delivery ${parts[2]}.`);
      if (method === "POST") {
        delivery.attempts += 1;
        return { status: 200, body: delivery };
      }
    }
    throw new Problem(405, "method_not_allowed", "Method not allowed", `${method} ${path}`);
  };

  const answerProblem = (res: ServerResponse, problem: Problem, path: string) => {
    const requestId = `req_${randomBytes(6).toString("hex")}`;
    res.writeHead(problem.status, {
      "content-type": "application/problem+json",
      "x-request-id": requestId,
    });
    res.end(
      JSON.stringify({
        type: `${PROBLEM_BASE}/${problem.code.replaceAll("_", "-")}`,
        title: problem.title,
        status: problem.status,
        detail: problem.detail,
        instance: path,
        code: problem.code,
        request_id: requestId,
      }),
    );
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    let body: unknown;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    requests.push({
      method: req.method ?? "",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...req.headers },
      body,
      at: performance.now(),
    });
    const scripted = script.shift();
    if (scripted) {
      if ("hang" in scripted) return; // never answers; close() ends the socket
      if ("reset" in scripted) {
        req.socket.destroy();
        return;
      }
      if (scripted.delayMs) await new Promise((resolve) => setTimeout(resolve, scripted.delayMs));
      if (res.destroyed) return;
      res.writeHead(scripted.status, {
        "content-type": scripted.raw === undefined ? "application/problem+json" : "text/html",
        ...scripted.headers,
      });
      res.end(scripted.raw ?? (scripted.body === undefined ? "" : JSON.stringify(scripted.body)));
      return;
    }
    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      answerProblem(
        res,
        new Problem(401, "invalid_api_key", "Unauthorized", "The API key is missing or wrong."),
        url.pathname,
      );
      return;
    }
    try {
      const answer = route(req.method ?? "", url.pathname, url.searchParams, body);
      if (answer.status === 204) {
        res.writeHead(204).end();
        return;
      }
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(JSON.stringify(answer.body));
    } catch (error) {
      if (!(error instanceof Problem)) throw error;
      answerProblem(res, error, url.pathname);
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500, { "content-type": "text/plain" }).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    apiKey,
    requests,
    script,
    get listEnvelope() {
      return state.listEnvelope;
    },
    set listEnvelope(value: boolean) {
      state.listEnvelope = value;
    },
    secretOf: (id) => webhooks.get(id)?.secret,
    close: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
