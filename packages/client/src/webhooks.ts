import { KallimaConnectionError } from "./errors.js";
import type { RequestOptions, Transport } from "./transport.js";
import type {
  DeliveryListParams,
  Webhook,
  WebhookCreateParams,
  WebhookDelivery,
  WebhookUpdateParams,
  WebhookWithSecret,
} from "./types.js";

/**
 * The paths Kallima's API reference does not give, inferred from those it does (the Python SDK
 * has the calls). `{webhook_id}` and `{delivery_id}` are filled in, URL-encoded.
 */
export interface InferredPaths {
  /** "Fire a test event". */
  test: string;
  /** Delivery history of one endpoint. */
  deliveries: string;
  /** Manual retry of one delivery. */
  retryDelivery: string;
}

/** The inferred paths this client uses unless told otherwise (per client or per call). */
export const DEFAULT_INFERRED_PATHS: Readonly<InferredPaths> = Object.freeze({
  test: "/v1/webhooks/{webhook_id}/test",
  deliveries: "/v1/webhooks/{webhook_id}/deliveries",
  retryDelivery: "/v1/webhook_deliveries/{delivery_id}/retry",
});

/** The options of a call whose path is inferred: `path` replaces it for this call. */
export interface InferredPathOptions extends RequestOptions {
  /** E.g. `"/v1/webhooks/{webhook_id}/send_test"`; placeholders are filled in as by default. */
  path?: string;
}

const WEBHOOKS_PATH = "/v1/webhooks";
const WEBHOOK_PATH = "/v1/webhooks/{webhook_id}";

/**
 * The endpoints API: `kallima.webhooks`. Every method resolves to the answer's wire shape and
 * rejects with a {@link KallimaError} subclass.
 */
export class Webhooks {
  readonly #transport: Transport;
  readonly #paths: InferredPaths;

  constructor(transport: Transport, paths: InferredPaths) {
    this.#transport = transport;
    this.#paths = paths;
  }

  /**
   * Registers an endpoint (`POST /v1/webhooks`). The answer is the only one that ever shows its
   * `secret`: store it now. Never retried (a repeat would register a second endpoint).
   *
   * @example
   * ```ts
   * const hook = await kallima.webhooks.create({ url: "https://example.com/kallima-events", events: ["job.completed"] });
   * await saveSecret(hook.id, hook.secret);
   * ```
   */
  async create(params: WebhookCreateParams, options?: RequestOptions): Promise<WebhookWithSecret> {
    requireString(params?.url, "url");
    const answer = await this.#transport.request({
      method: "POST",
      path: WEBHOOKS_PATH,
      body: pick(params, ["url", "events", "enabled"]),
      idempotent: false,
      options,
    });
    return withSecret(answer, "create");
  }

  /**
   * Fetches one endpoint (`GET /v1/webhooks/{webhook_id}`), without its secret.
   *
   * @example
   * ```ts
   * const hook = await kallima.webhooks.retrieve(id);
   * ```
   */
  async retrieve(webhookId: string, options?: RequestOptions): Promise<Webhook> {
    const answer = await this.#transport.request({
      method: "GET",
      path: fill(WEBHOOK_PATH, { webhook_id: webhookId }),
      idempotent: true,
      options,
    });
    return object<Webhook>(answer, "retrieve");
  }

  /**
   * The organisation's endpoints, newest first, without secrets (`GET /v1/webhooks`). The
   * reference describes no paging: this is every endpoint.
   *
   * @example
   * ```ts
   * for (const hook of await kallima.webhooks.list()) console.log(hook.url, hook.enabled);
   * ```
   */
  async list(options?: RequestOptions): Promise<Webhook[]> {
    const answer = await this.#transport.request({
      method: "GET",
      path: WEBHOOKS_PATH,
      idempotent: true,
      options,
    });
    return items<Webhook>(answer, "list");
  }

  /**
   * Changes an endpoint's `url`, `events` or `enabled` (`PATCH /v1/webhooks/{webhook_id}`);
   * omitted fields stay as they are. `events: []` or `null` subscribes to every type.
   *
   * @example
   * ```ts
   * await kallima.webhooks.update(id, { events: ["job.completed", "job.failed"] });
   * ```
   */
  async update(
    webhookId: string,
    params: WebhookUpdateParams,
    options?: RequestOptions,
  ): Promise<Webhook> {
    const answer = await this.#transport.request({
      method: "PATCH",
      path: fill(WEBHOOK_PATH, { webhook_id: webhookId }),
      body: pick(params ?? {}, ["url", "events", "enabled"]),
      // Setting the same fields twice leaves the same endpoint.
      idempotent: true,
      options,
    });
    return object<Webhook>(answer, "update");
  }

  /**
   * Issues a new signing secret (`PATCH /v1/webhooks/{webhook_id}?rotate_secret=true`) and
   * resolves to the endpoint with it. The old secret stops working at once: deliveries your
   * receiver refuses until it holds the new secret (beside the old one, as a list: it accepts
   * either) fail and are retried by Kallima. Never retried itself (a repeat would rotate again and
   * lose the first new secret).
   *
   * @example
   * ```ts
   * const { secret } = await kallima.webhooks.rotateSecret(id);
   * ```
   */
  async rotateSecret(webhookId: string, options?: RequestOptions): Promise<WebhookWithSecret> {
    const answer = await this.#transport.request({
      method: "PATCH",
      path: fill(WEBHOOK_PATH, { webhook_id: webhookId }),
      query: { rotate_secret: true },
      body: {},
      idempotent: false,
      options,
    });
    return withSecret(answer, "rotateSecret");
  }

  /**
   * Resumes deliveries to an endpoint (`update(id, { enabled: true })`).
   *
   * @example
   * ```ts
   * await kallima.webhooks.enable(id);
   * ```
   */
  enable(webhookId: string, options?: RequestOptions): Promise<Webhook> {
    return this.update(webhookId, { enabled: true }, options);
  }

  /**
   * Pauses an endpoint: Kallima sends it nothing until it is enabled (`update(id, { enabled: false })`).
   *
   * @example
   * ```ts
   * await kallima.webhooks.disable(id);
   * ```
   */
  disable(webhookId: string, options?: RequestOptions): Promise<Webhook> {
    return this.update(webhookId, { enabled: false }, options);
  }

  /**
   * Deletes an endpoint (`DELETE /v1/webhooks/{webhook_id}`); its pending deliveries are orphaned.
   *
   * @example
   * ```ts
   * await kallima.webhooks.delete(id);
   * ```
   */
  async delete(webhookId: string, options?: RequestOptions): Promise<void> {
    await this.#transport.request({
      method: "DELETE",
      path: fill(WEBHOOK_PATH, { webhook_id: webhookId }),
      idempotent: true,
      options,
    });
  }

  /**
   * Sends a `webhook.test` event to the endpoint now and resolves to the delivery record, with
   * the endpoint's `response_status`. Inferred path: `POST /v1/webhooks/{webhook_id}/test`. The
   * answer waits on the endpoint (Kallima gives it 30 s), so the call's default timeout is the
   * client's `timeoutMs` plus 30 s.
   *
   * @example
   * ```ts
   * const delivery = await kallima.webhooks.test(id);
   * if (delivery.response_status !== 200) console.error(delivery.response_body);
   * ```
   */
  async test(webhookId: string, options?: InferredPathOptions): Promise<WebhookDelivery> {
    const answer = await this.#transport.request({
      method: "POST",
      path: fill(options?.path ?? this.#paths.test, { webhook_id: webhookId }),
      idempotent: false,
      waitsForDelivery: true,
      options,
    });
    return object<WebhookDelivery>(answer, "test");
  }

  /**
   * An endpoint's delivery history, newest first, at most `limit` records. Inferred path:
   * `GET /v1/webhooks/{webhook_id}/deliveries?limit=…`.
   *
   * @example
   * ```ts
   * const failed = (await kallima.webhooks.listDeliveries(id, { limit: 20 }))
   *   .filter((d) => d.delivered_at === null);
   * ```
   */
  async listDeliveries(
    webhookId: string,
    params: DeliveryListParams = {},
    options?: InferredPathOptions,
  ): Promise<WebhookDelivery[]> {
    if (params.limit !== undefined && !(Number.isSafeInteger(params.limit) && params.limit > 0)) {
      throw invalidArgument(`limit must be a whole number ≥ 1, got ${String(params.limit)}.`);
    }
    const answer = await this.#transport.request({
      method: "GET",
      path: fill(options?.path ?? this.#paths.deliveries, { webhook_id: webhookId }),
      query: { limit: params.limit },
      idempotent: true,
      options,
    });
    return items<WebhookDelivery>(answer, "listDeliveries");
  }

  /**
   * Sends a delivery again now and resolves to its updated record (`attempts` one higher).
   * Inferred path: `POST /v1/webhook_deliveries/{delivery_id}/retry`. Never retried itself; its
   * default timeout is the client's `timeoutMs` plus 30 s, as for {@link Webhooks.test}.
   *
   * @example
   * ```ts
   * const delivery = await kallima.webhooks.retryDelivery(deliveryId);
   * ```
   */
  async retryDelivery(deliveryId: string, options?: InferredPathOptions): Promise<WebhookDelivery> {
    const answer = await this.#transport.request({
      method: "POST",
      path: fill(options?.path ?? this.#paths.retryDelivery, { delivery_id: deliveryId }),
      idempotent: false,
      waitsForDelivery: true,
      options,
    });
    return object<WebhookDelivery>(answer, "retryDelivery");
  }
}

function invalidArgument(message: string): KallimaConnectionError {
  return new KallimaConnectionError("invalid_argument", message);
}

function requireString(value: unknown, name: string): asserts value is string {
  if (typeof value !== "string" || value.trim() === "") {
    throw invalidArgument(`${name} must be a non-empty string, got ${JSON.stringify(value)}.`);
  }
}

/**
 * Fills `{name}` placeholders with URL-encoded ids. An empty id would turn
 * `/v1/webhooks/{webhook_id}` into the list path, and DELETE it: refused before anything is sent.
 */
export function fill(template: string, values: Record<string, string>): string {
  if (!template.startsWith("/"))
    throw invalidArgument(`A path must start with "/", got "${template}".`);
  return template.replace(/\{(\w+)\}/g, (placeholder, name: string) => {
    const value = values[name];
    if (value === undefined) {
      throw invalidArgument(
        `The path "${template}" has ${placeholder}, which this call does not fill.`,
      );
    }
    requireString(value, name);
    return encodeURIComponent(value);
  });
}

function pick<T extends object, K extends keyof T>(source: T, keys: readonly K[]): Partial<T> {
  const picked: Partial<T> = {};
  for (const key of keys) if (source[key] !== undefined) picked[key] = source[key];
  return picked;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function object<T>(answer: unknown, call: string): T {
  if (!isObject(answer)) {
    throw new KallimaConnectionError(
      "invalid_response",
      `${call}: the answer is not a JSON object.`,
    );
  }
  return answer as T;
}

function withSecret(answer: unknown, call: string): WebhookWithSecret {
  const hook = object<WebhookWithSecret>(answer, call);
  if (typeof hook.secret !== "string" || hook.secret === "") {
    throw new KallimaConnectionError(
      "invalid_response",
      `${call}: the answer carries no secret, and no later call shows it.`,
    );
  }
  return hook;
}

/** A list is answered as a bare array or as a list object (`{ object: "list", data: [...] }`). */
function items<T>(answer: unknown, call: string): T[] {
  const list = isObject(answer) ? answer.data : answer;
  if (!Array.isArray(list) || !list.every(isObject)) {
    throw new KallimaConnectionError(
      "invalid_response",
      `${call}: the answer is not a list of objects.`,
    );
  }
  return list as T[];
}
