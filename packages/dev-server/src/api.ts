import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { EventSpec } from "./events.js";
import { readJsonObject, send } from "./http.js";
import type { LocalKallima, TriggerFaults, TriggerInput } from "./local-kallima.js";
import { renderPage } from "./page.js";
import { ApiProblem, createRequestId } from "./problem.js";
import type { SignatureFormat } from "./wire.js";

/** One answer of a route: a status and a JSON body (`undefined`: no body). */
interface Answer {
  status: number;
  body: unknown;
}

interface Route {
  method: string;
  pattern: RegExp;
  /** Whether a repeated `Idempotency-Key` replays the stored answer. */
  idempotent?: boolean;
  run(params: string[], request: IncomingMessage, url: URL): Promise<Answer> | Answer;
}

function parseLimit(url: URL): number {
  const raw = url.searchParams.get("limit");
  if (raw === null) return 20;
  const limit = Number(raw);
  if (!/^\d+$/.test(raw) || limit < 1 || limit > 100) {
    throw new ApiProblem(
      422,
      "validation_error",
      `limit must be a whole number from 1 to 100, got "${raw}".`,
    );
  }
  return limit;
}

function parseRotate(url: URL): boolean {
  const raw = url.searchParams.get("rotate_secret");
  if (raw === null || raw === "false") return false;
  if (raw === "true") return true;
  throw new ApiProblem(
    422,
    "validation_error",
    `rotate_secret must be true or false, got "${raw}".`,
  );
}

function asEventSpec(value: unknown, where: string): EventSpec {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ApiProblem(422, "validation_error", `${where} must be an object with a type.`);
  }
  const { type, data, set, id } = value as Record<string, unknown>;
  if (set !== undefined) {
    const entries = typeof set === "object" && set !== null ? Object.entries(set) : undefined;
    if (!entries || Array.isArray(set) || entries.some(([, v]) => typeof v !== "string")) {
      throw new ApiProblem(422, "validation_error", `${where}.set maps key paths to strings.`);
    }
  }
  if (id !== undefined && (typeof id !== "string" || id === "")) {
    throw new ApiProblem(422, "validation_error", `${where}.id must be a non-empty string.`);
  }
  return {
    type: type as string,
    ...(data === undefined ? {} : { data: data as Record<string, unknown> }),
    ...(set === undefined ? {} : { set: set as Record<string, string> }),
    ...(id === undefined ? {} : { id }),
  };
}

/** `POST /v1/dev/events`: one event (`type`, `data`, `set`) or a batch (`events: […]`). */
function triggerInput(body: Record<string, unknown>): TriggerInput {
  const events = Array.isArray(body.events)
    ? body.events.map((event, index) => asEventSpec(event, `events[${index}]`))
    : [asEventSpec(body, "The body")];
  const faults = body.faults;
  if (
    faults !== undefined &&
    (typeof faults !== "object" || faults === null || Array.isArray(faults))
  ) {
    throw new ApiProblem(422, "validation_error", "faults must be an object.");
  }
  if (body.webhook_id !== undefined && typeof body.webhook_id !== "string") {
    throw new ApiProblem(422, "validation_error", "webhook_id must be a string.");
  }
  return {
    events,
    ...(body.webhook_id === undefined ? {} : { webhook_id: body.webhook_id as string }),
    ...(body.signature_format === undefined
      ? {}
      : { signature_format: body.signature_format as SignatureFormat }),
    ...(faults === undefined ? {} : { faults: faults as TriggerFaults }),
  };
}

function routes(kallima: LocalKallima): Route[] {
  const ID = "([^/]+)";
  return [
    {
      method: "POST",
      pattern: /^\/v1\/webhooks$/,
      idempotent: true,
      run: async (_params, request) => ({
        status: 201,
        body: kallima.createWebhook(await readJsonObject(request)),
      }),
    },
    {
      method: "GET",
      pattern: /^\/v1\/webhooks$/,
      run: () => ({ status: 200, body: kallima.listWebhooks() }),
    },
    {
      method: "GET",
      pattern: new RegExp(`^/v1/webhooks/${ID}$`),
      run: ([id]) => ({ status: 200, body: kallima.retrieveWebhook(id!) }),
    },
    {
      method: "PATCH",
      pattern: new RegExp(`^/v1/webhooks/${ID}$`),
      run: async ([id], request, url) => {
        const rotate = parseRotate(url);
        return {
          status: 200,
          body: kallima.updateWebhook(id!, await readJsonObject(request), rotate),
        };
      },
    },
    {
      method: "DELETE",
      pattern: new RegExp(`^/v1/webhooks/${ID}$`),
      run: ([id]) => {
        kallima.deleteWebhook(id!);
        return { status: 204, body: undefined };
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`^/v1/webhooks/${ID}/test$`),
      idempotent: true,
      run: async ([id]) => ({ status: 200, body: await kallima.testWebhook(id!) }),
    },
    {
      method: "GET",
      pattern: new RegExp(`^/v1/webhooks/${ID}/deliveries$`),
      run: ([id], _request, url) => ({
        status: 200,
        body: kallima.listDeliveries(id!, parseLimit(url)),
      }),
    },
    {
      method: "GET",
      pattern: new RegExp(`^/v1/webhook_deliveries/${ID}$`),
      run: ([id]) => ({ status: 200, body: kallima.retrieveDelivery(id!) }),
    },
    {
      method: "POST",
      pattern: new RegExp(`^/v1/webhook_deliveries/${ID}/retry$`),
      idempotent: true,
      run: async ([id]) => ({ status: 200, body: await kallima.retryDelivery(id!) }),
    },
    // Dev-only: not part of Kallima's API.
    {
      method: "POST",
      pattern: /^\/v1\/dev\/events$/,
      idempotent: true,
      run: async (_params, request) => ({
        status: 201,
        body: await kallima.trigger(triggerInput(await readJsonObject(request))),
      }),
    },
    {
      method: "GET",
      pattern: /^\/v1\/dev\/events$/,
      run: (_params, _request, url) => ({ status: 200, body: kallima.listEvents(parseLimit(url)) }),
    },
    {
      method: "GET",
      pattern: new RegExp(`^/v1/dev/deliveries/${ID}/attempts$`),
      run: ([id]) => ({ status: 200, body: kallima.listAttempts(id!) }),
    },
  ];
}

/** Options of {@link createApiListener}. */
export interface ApiListenerOptions {
  /** When set, every `/v1/` call needs `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
}

function authorized(header: string | undefined, apiKey: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? "");
  if (!match) return false;
  const given = createHash("sha256").update(match[1]!.trim()).digest();
  const expected = createHash("sha256").update(apiKey).digest();
  return timingSafeEqual(given, expected);
}

/**
 * The dev server's request listener: Kallima's endpoints API (answers and problem+json errors in
 * the reference's shapes), the dev-only trigger routes, and the page at `/`.
 */
export function createApiListener(
  kallima: LocalKallima,
  options: ApiListenerOptions = {},
): (request: IncomingMessage, response: ServerResponse) => void {
  const table = routes(kallima);
  const replays = new Map<string, { fingerprint: string; answer: Answer }>();

  async function handle(request: IncomingMessage, response: ServerResponse, requestId: string) {
    const url = new URL(request.url ?? "/", "http://localhost");
    const method = request.method ?? "GET";
    if (url.pathname === "/" && (method === "GET" || method === "HEAD")) {
      const html = renderPage(kallima.snapshot());
      response.writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
        "content-length": String(Buffer.byteLength(html)),
      });
      response.end(method === "HEAD" ? undefined : html);
      return;
    }
    if (
      options.apiKey !== undefined &&
      !authorized(request.headers.authorization, options.apiKey)
    ) {
      throw new ApiProblem(
        401,
        "unauthorized",
        "Send the API key as Authorization: Bearer <key>.",
        {
          "www-authenticate": "Bearer",
        },
      );
    }
    const matching = table
      .map((route) => ({ route, match: route.pattern.exec(url.pathname) }))
      .filter((candidate) => candidate.match !== null);
    if (matching.length === 0) throw new ApiProblem(404, "not_found", `No route ${url.pathname}.`);
    const found = matching.find((candidate) => candidate.route.method === method);
    if (!found) {
      const allow = matching.map((candidate) => candidate.route.method).join(", ");
      throw new ApiProblem(405, "method_not_allowed", `${url.pathname} takes ${allow}.`, {
        allow,
      });
    }
    const params = found.match!.slice(1).map((part) => decodeURIComponent(part));
    const key = request.headers["idempotency-key"];
    if (found.route.idempotent && typeof key === "string" && key !== "") {
      // The answer is stored once the call ends; the same key on the same call replays it.
      const fingerprint = `${method} ${url.pathname}${url.search}`;
      const stored = replays.get(key);
      if (stored) {
        if (stored.fingerprint !== fingerprint) {
          throw new ApiProblem(
            422,
            "idempotency_key_reused",
            `Idempotency-Key ${key} was used for ${stored.fingerprint}.`,
          );
        }
        send(response, stored.answer.status, stored.answer.body, {
          "x-request-id": requestId,
          "idempotent-replayed": "true",
        });
        return;
      }
      const answer = await found.route.run(params, request, url);
      replays.set(key, { fingerprint, answer });
      send(response, answer.status, answer.body, { "x-request-id": requestId });
      return;
    }
    const answer = await found.route.run(params, request, url);
    send(response, answer.status, answer.body, { "x-request-id": requestId });
  }

  return (request, response) => {
    const requestId = createRequestId();
    handle(request, response, requestId).catch((error: unknown) => {
      const problem =
        error instanceof ApiProblem
          ? error
          : new ApiProblem(500, "internal_error", "The dev server failed; see its output.");
      if (!(error instanceof ApiProblem)) console.error(error);
      const instance = (request.url ?? "/").split("?")[0]!;
      if (response.headersSent) {
        response.destroy();
        return;
      }
      send(response, problem.status, problem.toDocument(instance, requestId), {
        ...problem.headers,
        "content-type": "application/problem+json",
        "x-request-id": requestId,
      });
    });
  };
}
