import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { attemptDelivery } from "./attempt.js";
import { buildEvent, type EventSpec, envelopeOf } from "./events.js";
import { ApiProblem } from "./problem.js";
import { DELIVERY_TIMEOUT_MS, REALISTIC_RETRY_DELAYS_MS } from "./schedule.js";
import type { DevState, StoredDelivery, StoredWebhook } from "./state.js";
import { StateStore } from "./store.js";
import {
  count,
  createSecret,
  faultOf,
  invalid,
  nowIso,
  validateEnabled,
  validateEvents,
  validateFormat,
  validateUrl,
} from "./validation.js";
import { publicDelivery, publicWebhook } from "./views.js";
import type {
  DeliveryAttempt,
  DeliveryFault,
  EventObject,
  SignatureFormat,
  WebhookDeliveryObject,
  WebhookObject,
  WebhookObjectWithSecret,
} from "./wire.js";

/** Options of {@link LocalKallima}. */
export interface LocalKallimaOptions {
  /** SQLite file the state persists in (created if missing); undefined keeps it in memory. */
  stateFile?: string;
  /** Delays before each retry (ms); default {@link REALISTIC_RETRY_DELAYS_MS}. */
  retryDelaysMs?: readonly number[];
  /** How long an attempt waits for an answer; default 30 s, as Kallima. */
  deliveryTimeoutMs?: number;
  /** Header format of endpoints registered without one; default `x-headers`. */
  defaultSignatureFormat?: SignatureFormat;
}

/** Fields of a register or update call (a dev-only `signature_format` beside Kallima's). */
export interface WebhookInput {
  url?: unknown;
  events?: unknown;
  enabled?: unknown;
  signature_format?: unknown;
}

/** Faults to inject into a trigger's deliveries (dev-only). */
export interface TriggerFaults {
  /** Deliveries of each event to each endpoint (same event id); default 1. */
  duplicates?: number;
  /** Send the duplicates at once instead of one after another. */
  concurrent?: boolean;
  /** Deliver a batch of events newest first. */
  out_of_order?: boolean;
  /** Wait this long before the first attempt. */
  delay_ms?: number;
  stale_timestamp?: boolean;
  tampered_body?: boolean;
  wrong_secret?: boolean;
}

/** A trigger: one event or a batch, to every enabled subscribed endpoint (or one). */
export interface TriggerInput {
  events: EventSpec[];
  /** Only this endpoint (it must be subscribed and enabled). */
  webhook_id?: string;
  /** Sign in this header format instead of each endpoint's. */
  signature_format?: SignatureFormat;
  faults?: TriggerFaults;
}

/** One attempt just made, as {@link LocalKallima.onAttempt} reports it. */
export interface AttemptReport {
  delivery: WebhookDeliveryObject;
  attempt: DeliveryAttempt;
  /** Where it was sent. */
  url: string;
  /** When the next retry is due; `null` when it succeeded or was given up. */
  next_attempt_at: string | null;
}

/** Told about each attempt. */
export type AttemptListener = (report: AttemptReport) => void;

/** What a trigger did: the events it built, and their deliveries after their first attempt. */
export interface TriggerResult {
  events: EventObject[];
  deliveries: WebhookDeliveryObject[];
}

/**
 * Kallima's sending side, on this machine: endpoints, events and deliveries (persisted), signed
 * deliveries with Kallima's semantics (30 s timeout; non-2xx and timeouts retried on a schedule;
 * every attempt recorded; manual retry; rotation invalidating the old secret at once; nothing sent
 * to disabled endpoints), and fault injection. {@link startDevServer} serves it over HTTP.
 *
 * @example
 * ```ts
 * const kallima = new LocalKallima({ retryDelaysMs: [10, 20] });
 * const endpoint = kallima.createWebhook({ url: "http://127.0.0.1:3101/kallima-events" });
 * await kallima.trigger({ events: [{ type: "job.completed" }] });
 * await kallima.close();
 * ```
 */
export class LocalKallima {
  readonly #state: DevState;
  readonly #store: StateStore;
  readonly #retryDelaysMs: readonly number[];
  readonly #timeoutMs: number;
  readonly #defaultFormat: SignatureFormat;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  /** Per delivery, the attempt running now: attempts of one delivery never overlap. */
  readonly #running = new Map<string, Promise<void>>();
  readonly #listeners = new Set<AttemptListener>();
  #closed = false;

  constructor(options: LocalKallimaOptions = {}) {
    this.#store = new StateStore(options.stateFile);
    this.#state = this.#store.load();
    this.#retryDelaysMs = options.retryDelaysMs ?? REALISTIC_RETRY_DELAYS_MS;
    this.#timeoutMs = options.deliveryTimeoutMs ?? DELIVERY_TIMEOUT_MS;
    this.#defaultFormat = options.defaultSignatureFormat ?? "x-headers";
    // Deliveries that were waiting when the server stopped carry on where they were.
    for (const delivery of this.#state.deliveries) {
      if (delivery.status === "pending" && delivery.next_attempt_at !== null) {
        const due = Date.parse(delivery.next_attempt_at) - Date.now();
        this.#schedule(delivery, due, delivery.attempts === 0 ? "initial" : "scheduled_retry");
      }
    }
  }

  /** Where the state is saved, if anywhere. */
  get stateFile(): string | undefined {
    return this.#store.path;
  }

  /**
   * Calls `listener` after every attempt (the `dev` command prints them); returns the function
   * that stops it.
   */
  onAttempt(listener: AttemptListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  // ——— endpoints ———

  /** Registers an endpoint; the answer is the only one that shows its secret. */
  createWebhook(input: WebhookInput): WebhookObjectWithSecret {
    const created = nowIso();
    const webhook: StoredWebhook = {
      id: randomUUID(),
      object: "webhook",
      url: validateUrl(input.url),
      enabled: input.enabled === undefined ? true : validateEnabled(input.enabled),
      events: validateEvents(input.events),
      created_at: created,
      updated_at: created,
      secret: createSecret(),
      signature_format:
        input.signature_format === undefined
          ? this.#defaultFormat
          : validateFormat(input.signature_format),
      deleted_at: null,
    };
    this.#state.webhooks.push(webhook);
    this.#store.saveWebhook(webhook);
    return { ...publicWebhook(webhook), secret: webhook.secret };
  }

  /** Every endpoint, newest first, without secrets. */
  listWebhooks(): WebhookObject[] {
    return this.#liveWebhooks()
      .reverse()
      .map((webhook) => publicWebhook(webhook));
  }

  retrieveWebhook(id: string): WebhookObject {
    return publicWebhook(this.#webhook(id));
  }

  /**
   * Changes an endpoint; with `rotateSecret`, issues a new secret, and the old one signs nothing
   * from this moment (retries included).
   */
  updateWebhook(
    id: string,
    input: WebhookInput,
    rotateSecret = false,
  ): WebhookObject | WebhookObjectWithSecret {
    const webhook = this.#webhook(id);
    const next = {
      url: input.url === undefined ? webhook.url : validateUrl(input.url),
      events: input.events === undefined ? webhook.events : validateEvents(input.events),
      enabled: input.enabled === undefined ? webhook.enabled : validateEnabled(input.enabled),
      signature_format:
        input.signature_format === undefined
          ? webhook.signature_format
          : validateFormat(input.signature_format),
    };
    const wasEnabled = webhook.enabled;
    Object.assign(webhook, next, { updated_at: nowIso() });
    if (rotateSecret) webhook.secret = createSecret();
    this.#store.saveWebhook(webhook);
    if (!wasEnabled && webhook.enabled) this.#resumePaused(webhook);
    const answer = publicWebhook(webhook);
    return rotateSecret ? { ...answer, secret: webhook.secret } : answer;
  }

  /** Deletes an endpoint; its pending deliveries are orphaned (never attempted again). */
  deleteWebhook(id: string): void {
    const webhook = this.#webhook(id);
    webhook.deleted_at = nowIso();
    this.#store.saveWebhook(webhook);
    for (const delivery of this.#state.deliveries) {
      if (delivery.webhook_id === id && delivery.status === "pending") {
        this.#cancel(delivery.id);
        delivery.next_attempt_at = null;
        this.#store.saveDelivery(delivery);
      }
    }
  }

  // ——— deliveries ———

  /** Sends `webhook.test` to the endpoint now; resolves to the delivery after its first attempt. */
  async testWebhook(id: string): Promise<WebhookDeliveryObject> {
    const webhook = this.#webhook(id);
    if (!webhook.enabled) {
      throw new ApiProblem(409, "webhook_disabled", `Webhook ${id} is disabled: enable it first.`);
    }
    const event = this.#storeEvent(
      buildEvent({ type: "webhook.test", data: { webhook_id: webhook.id } }),
    );
    const delivery = this.#createDelivery(webhook, event, null, null);
    await this.#attempt(delivery, "initial");
    return publicDelivery(delivery);
  }

  /** An endpoint's deliveries, newest first. */
  listDeliveries(webhookId: string, limit = 20): WebhookDeliveryObject[] {
    this.#webhook(webhookId);
    return this.#state.deliveries
      .filter((delivery) => delivery.webhook_id === webhookId)
      .reverse()
      .slice(0, limit)
      .map((delivery) => publicDelivery(delivery));
  }

  retrieveDelivery(id: string): WebhookDeliveryObject {
    return publicDelivery(this.#delivery(id));
  }

  /** Every attempt of a delivery, oldest first (dev-only). */
  listAttempts(id: string): DeliveryAttempt[] {
    return this.#delivery(id).attempt_log.map((attempt) => ({ ...attempt }));
  }

  /** Attempts a delivery again now, signed with the endpoint's current secret. */
  async retryDelivery(id: string): Promise<WebhookDeliveryObject> {
    const delivery = this.#delivery(id);
    const webhook = this.#state.webhooks.find((candidate) => candidate.id === delivery.webhook_id);
    if (!webhook || webhook.deleted_at !== null) {
      throw new ApiProblem(
        409,
        "webhook_deleted",
        `The webhook of delivery ${id} was deleted: its deliveries are orphaned.`,
      );
    }
    if (!webhook.enabled) {
      throw new ApiProblem(
        409,
        "webhook_disabled",
        `Webhook ${webhook.id} is disabled: enable it, then retry.`,
      );
    }
    await this.#attempt(delivery, "manual_retry");
    return publicDelivery(delivery);
  }

  // ——— triggering ———

  /**
   * Builds the events and delivers each to every enabled endpoint subscribed to its type (or to
   * `webhook_id` only), with the faults asked for; resolves once every first attempt answered.
   */
  async trigger(input: TriggerInput): Promise<TriggerResult> {
    const faults = input.faults ?? {};
    const fault = faultOf(faults);
    const duplicates = count(faults.duplicates, "faults.duplicates", 1, 50);
    const delayMs =
      faults.delay_ms === undefined ? 0 : count(faults.delay_ms, "faults.delay_ms", 0, 600_000);
    const format =
      input.signature_format === undefined ? null : validateFormat(input.signature_format);
    if (!Array.isArray(input.events) || input.events.length === 0 || input.events.length > 50) {
      throw invalid("events must list 1 to 50 events.");
    }
    if (input.webhook_id !== undefined && !this.#webhook(input.webhook_id).enabled) {
      throw new ApiProblem(
        409,
        "webhook_disabled",
        `Webhook ${input.webhook_id} is disabled: nothing is sent to it.`,
      );
    }
    const base = Date.now();
    const built = input.events.map((spec, index) => {
      const event = buildEvent(spec);
      // A batch is created in order, one second apart, so that arrival order can be told from
      // creation order (created_at) when it is delivered out of order.
      if (input.events.length > 1 && spec.set?.created_at === undefined) {
        event.created_at = new Date(base + index * 1000).toISOString();
      }
      return event;
    });
    const events = built.map((event) => this.#storeEvent(event));
    const order = faults.out_of_order ? [...events].reverse() : events;
    const targets = this.#liveWebhooks().filter(
      (webhook) =>
        webhook.enabled && (input.webhook_id === undefined || webhook.id === input.webhook_id),
    );
    const deliveries: StoredDelivery[] = [];
    const perEndpoint = targets.map(async (webhook) => {
      for (const event of order) {
        if (webhook.events !== null && !webhook.events.includes(event.type)) continue;
        const copies = Array.from({ length: duplicates }, () => {
          const delivery = this.#createDelivery(webhook, event, fault, format);
          deliveries.push(delivery);
          return delivery;
        });
        if (delayMs > 0) await sleep(delayMs);
        if (faults.concurrent) {
          await Promise.all(copies.map((delivery) => this.#attempt(delivery, "initial")));
        } else {
          for (const delivery of copies) await this.#attempt(delivery, "initial");
        }
      }
    });
    await Promise.all(perEndpoint);
    return { events, deliveries: deliveries.map((delivery) => publicDelivery(delivery)) };
  }

  /** Stored events, newest first (dev-only). */
  listEvents(limit = 50): EventObject[] {
    return [...this.#state.events].reverse().slice(0, limit);
  }

  /** Everything, for the page: endpoints (deleted too), events and deliveries with attempts. */
  snapshot(): Readonly<DevState> {
    return structuredClone(this.#state);
  }

  /** Stops every planned retry, waits for attempts in flight, and saves the state. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const id of [...this.#timers.keys()]) this.#cancel(id);
    await Promise.allSettled([...this.#running.values()]);
    await this.#store.close();
  }

  // ——— internals ———

  #liveWebhooks(): StoredWebhook[] {
    return this.#state.webhooks.filter((webhook) => webhook.deleted_at === null);
  }

  #webhook(id: string): StoredWebhook {
    const webhook = this.#state.webhooks.find(
      (candidate) => candidate.id === id && candidate.deleted_at === null,
    );
    if (!webhook) throw new ApiProblem(404, "not_found", `No webhook with id ${id}.`);
    return webhook;
  }

  #delivery(id: string): StoredDelivery {
    const delivery = this.#state.deliveries.find((candidate) => candidate.id === id);
    if (!delivery) throw new ApiProblem(404, "not_found", `No webhook delivery with id ${id}.`);
    return delivery;
  }

  #storeEvent(event: EventObject): EventObject {
    this.#state.events.push(event);
    this.#store.saveEvent(event);
    return event;
  }

  #createDelivery(
    webhook: StoredWebhook,
    event: EventObject,
    fault: DeliveryFault | null,
    format: SignatureFormat | null,
  ): StoredDelivery {
    const delivery: StoredDelivery = {
      id: randomUUID(),
      object: "webhook_delivery",
      webhook_id: webhook.id,
      event_id: event.id,
      event_type: event.type,
      created_at: nowIso(),
      payload: envelopeOf(event),
      response_status: null,
      response_body: null,
      attempts: 0,
      delivered_at: null,
      status: "pending",
      attempt_log: [],
      // Due now: a restart before the first attempt still makes it.
      next_attempt_at: nowIso(),
      fault,
      signature_format: format,
    };
    this.#state.deliveries.push(delivery);
    this.#store.saveDelivery(delivery);
    return delivery;
  }

  #attempt(delivery: StoredDelivery, trigger: DeliveryAttempt["trigger"]): Promise<void> {
    const previous = this.#running.get(delivery.id) ?? Promise.resolve();
    const run = previous.then(() => this.#send(delivery, trigger));
    const tracked = run.finally(() => {
      if (this.#running.get(delivery.id) === tracked) this.#running.delete(delivery.id);
    });
    this.#running.set(delivery.id, tracked);
    return tracked;
  }

  async #send(delivery: StoredDelivery, trigger: DeliveryAttempt["trigger"]): Promise<void> {
    const webhook = this.#state.webhooks.find((candidate) => candidate.id === delivery.webhook_id);
    if (!webhook || webhook.deleted_at !== null) {
      delivery.next_attempt_at = null;
      this.#store.saveDelivery(delivery);
      return;
    }
    if (!webhook.enabled) {
      // Nothing goes to a disabled endpoint; enabling it resumes the delivery.
      delivery.next_attempt_at = null;
      this.#store.saveDelivery(delivery);
      return;
    }
    if (trigger === "scheduled_retry" && delivery.status !== "pending") return;
    // Only the first attempt carries the injected fault: a retry is what Kallima would send.
    const fault = trigger === "initial" ? delivery.fault : null;
    const startedAt = nowIso();
    const outcome = await attemptDelivery({
      url: webhook.url,
      secret: webhook.secret,
      format: delivery.signature_format ?? webhook.signature_format,
      envelope: delivery.payload,
      fault,
      timeoutMs: this.#timeoutMs,
    });
    const succeeded = outcome.status !== null && outcome.status >= 200 && outcome.status < 300;
    delivery.attempts += 1;
    delivery.attempt_log.push({
      number: delivery.attempts,
      started_at: startedAt,
      response_status: outcome.status,
      latency_ms: outcome.latencyMs,
      error: outcome.error,
      trigger,
      fault,
    });
    delivery.response_status = outcome.status;
    delivery.response_body = outcome.body;
    if (succeeded) {
      this.#cancel(delivery.id);
      delivery.status = "succeeded";
      delivery.delivered_at = nowIso();
      delivery.next_attempt_at = null;
    } else if (delivery.status !== "succeeded") {
      this.#planRetry(delivery, trigger);
    }
    this.#store.saveDelivery(delivery);
    const report: AttemptReport = {
      delivery: publicDelivery(delivery),
      attempt: { ...delivery.attempt_log.at(-1)! },
      url: webhook.url,
      next_attempt_at: delivery.next_attempt_at,
    };
    for (const listener of this.#listeners) {
      try {
        listener(report);
      } catch (error) {
        // A listener is an observer: its failure must not fail the delivery.
        console.error(error);
      }
    }
  }

  #planRetry(delivery: StoredDelivery, trigger: DeliveryAttempt["trigger"]): void {
    // A manual retry that fails leaves the schedule as it was.
    if (trigger === "manual_retry" && this.#timers.has(delivery.id)) return;
    // A fault-injected delivery is a probe: it is sent once, and retried only by hand.
    const retriesMade = delivery.attempt_log.filter((a) => a.trigger === "scheduled_retry").length;
    const delay = delivery.fault === null ? this.#retryDelaysMs[retriesMade] : undefined;
    if (delay === undefined) {
      delivery.status = "failed";
      delivery.next_attempt_at = null;
      return;
    }
    delivery.status = "pending";
    if (this.#closed) {
      // Stopping: the retry is saved with its time, and the next start makes it.
      delivery.next_attempt_at = new Date(Date.now() + delay).toISOString();
      return;
    }
    this.#schedule(delivery, delay, "scheduled_retry");
  }

  #schedule(delivery: StoredDelivery, delayMs: number, trigger: DeliveryAttempt["trigger"]): void {
    this.#cancel(delivery.id);
    const wait = Math.max(0, delayMs);
    delivery.next_attempt_at = new Date(Date.now() + wait).toISOString();
    this.#store.saveDelivery(delivery);
    const timer = setTimeout(() => {
      this.#timers.delete(delivery.id);
      if (!this.#closed) void this.#attempt(delivery, trigger);
    }, wait);
    timer.unref();
    this.#timers.set(delivery.id, timer);
  }

  #cancel(deliveryId: string): void {
    const timer = this.#timers.get(deliveryId);
    if (timer) clearTimeout(timer);
    this.#timers.delete(deliveryId);
  }

  #resumePaused(webhook: StoredWebhook): void {
    for (const delivery of this.#state.deliveries) {
      if (
        delivery.webhook_id === webhook.id &&
        delivery.status === "pending" &&
        delivery.next_attempt_at === null
      ) {
        this.#schedule(delivery, 0, delivery.attempts === 0 ? "initial" : "scheduled_retry");
      }
    }
  }
}
