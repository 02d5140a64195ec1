import {
  apiErrorFor,
  type KallimaApiError,
  KallimaConnectionError,
  KallimaError,
} from "./errors.js";
import type { ProblemDetails } from "./types.js";

/** Options every call takes, besides its own. */
export interface RequestOptions {
  /** Abort the call (no retry follows an abort). */
  signal?: AbortSignal;
  /** Milliseconds to wait for each attempt's whole answer; default the client's `timeoutMs`. */
  timeoutMs?: number;
  /** Retries of this call; default the client's `maxRetries`. Non-idempotent calls never retry. */
  maxRetries?: number;
}

/** How the client waits between attempts. */
export interface RetryPolicy {
  maxRetries: number;
  /** The first backoff; each retry doubles it (with jitter), up to `maxDelayMs`. */
  baseDelayMs: number;
  /**
   * The longest wait between attempts. A `Retry-After` asking for longer ends the retries: the
   * error (with `retryAfterSeconds`) is thrown instead of blocking the call.
   */
  maxDelayMs: number;
}

export interface TransportConfig {
  apiKey: string;
  baseUrl: string;
  timeoutMs: number;
  retry: RetryPolicy;
  fetch: typeof fetch;
  headers: Record<string, string>;
}

type AttemptOutcome =
  | { done: true; value: unknown }
  | { done: false; failure: KallimaApiError | KallimaConnectionError; retryable: boolean };

export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE";

/** How long Kallima waits for an endpoint's answer to one delivery attempt (PROTOCOL.md). */
export const KALLIMA_DELIVERY_TIMEOUT_MS = 30_000;

export interface ApiRequest {
  method: HttpMethod;
  /** Already filled in, starting with `/`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /**
   * Whether repeating the call cannot do it twice. Only idempotent calls are retried: Kallima's
   * endpoints API documents no `Idempotency-Key` (only job submission takes one), so a POST or a
   * rotation that may have reached the server is never sent again.
   */
  idempotent: boolean;
  /**
   * The answer comes only once Kallima has attempted a delivery to the endpoint, which it gives
   * up to {@link KALLIMA_DELIVERY_TIMEOUT_MS}: unless the call sets its own `timeoutMs`, it waits
   * the client's timeout plus that, so that a slow endpoint is reported in the delivery record
   * (`response_status: null`) instead of as this call's timeout.
   */
  waitsForDelivery?: boolean;
  options: RequestOptions | undefined;
}

/** Sends API calls: auth, timeouts, retries and errors; it never logs anything. */
export class Transport {
  // A private field: the key never shows in console.log(client), util.inspect or JSON.stringify.
  readonly #config: TransportConfig;

  constructor(config: TransportConfig) {
    this.#config = config;
  }

  /** The parsed JSON answer, or `undefined` for an empty one (204). */
  async request(request: ApiRequest): Promise<unknown> {
    const config = this.#config;
    const maxRetries = request.idempotent
      ? (request.options?.maxRetries ?? config.retry.maxRetries)
      : 0;
    const timeoutMs =
      request.options?.timeoutMs ??
      config.timeoutMs + (request.waitsForDelivery ? KALLIMA_DELIVERY_TIMEOUT_MS : 0);
    const userSignal = request.options?.signal;
    const url = this.#url(request);
    const init = this.#init(request);
    for (let attempt = 0; ; attempt++) {
      if (userSignal?.aborted) throw aborted(userSignal);
      const outcome = await this.#attempt(url, init, timeoutMs, userSignal);
      if (outcome.done) return outcome.value;
      const { failure } = outcome;
      if (!outcome.retryable || attempt >= maxRetries) throw failure;
      const retryAfterSeconds =
        "retryAfterSeconds" in failure ? failure.retryAfterSeconds : undefined;
      const delay =
        typeof retryAfterSeconds === "number"
          ? retryAfterSeconds * 1000
          : backoff(attempt, config.retry);
      if (delay > config.retry.maxDelayMs) throw failure;
      await sleep(delay, userSignal);
    }
  }

  async #attempt(
    url: string,
    init: RequestInit,
    timeoutMs: number,
    userSignal: AbortSignal | undefined,
  ): Promise<AttemptOutcome> {
    const signal = combine(userSignal, AbortSignal.timeout(timeoutMs));
    try {
      const response = await this.#config.fetch(url, { ...init, signal });
      const text = await response.text();
      if (response.ok) return { done: true, value: parseJson(text, response.status) };
      const error = apiError(response, text);
      return { done: false, failure: error, retryable: isRetryableStatus(response.status) };
    } catch (error) {
      if (userSignal?.aborted) throw aborted(userSignal);
      if (error instanceof KallimaError) throw error;
      // No answer (refused, reset, timed out): as retryable as a 5xx, for idempotent calls.
      return { done: false, failure: connectionError(error, timeoutMs), retryable: true };
    }
  }

  #url(request: ApiRequest): string {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) query.set(name, String(value));
    }
    const search = query.toString() === "" ? "" : `?${query}`;
    return `${this.#config.baseUrl}${request.path}${search}`;
  }

  #init(request: ApiRequest): RequestInit {
    const headers: Record<string, string> = {
      accept: "application/json, application/problem+json",
      ...this.#config.headers,
      authorization: `Bearer ${this.#config.apiKey}`,
    };
    if (request.body === undefined) return { method: request.method, headers };
    headers["content-type"] = "application/json";
    return { method: request.method, headers, body: JSON.stringify(request.body) };
  }
}

function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** Exponential: base, 2·base, 4·base…, each between half and all of it (so clients spread out). */
function backoff(attempt: number, policy: RetryPolicy): number {
  const full = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.round(full / 2 + (Math.random() * full) / 2);
}

function combine(user: AbortSignal | undefined, timeout: AbortSignal): AbortSignal {
  return user === undefined ? timeout : AbortSignal.any([user, timeout]);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (ms <= 0) return resolve();
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(aborted(signal!));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function aborted(signal: AbortSignal): KallimaConnectionError {
  return new KallimaConnectionError("aborted", "The call was aborted by its signal.", {
    cause: signal.reason,
  });
}

function connectionError(error: unknown, timeoutMs: number): KallimaConnectionError {
  // A DOMException on some runtimes, which is not always an Error: read its name either way.
  const name =
    typeof error === "object" && error !== null ? (error as { name?: unknown }).name : "";
  if (name === "TimeoutError" || name === "AbortError") {
    return new KallimaConnectionError("timeout", `No answer within ${timeoutMs} ms.`, {
      cause: error,
    });
  }
  // Node's fetch puts the reason (ECONNREFUSED, ENOTFOUND…) on the cause; other runtimes differ.
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === "string" ? ` (${cause.code})` : "";
  return new KallimaConnectionError(
    "connection_failed",
    `Could not reach the Kallima API${code}.`,
    { cause: error },
  );
}

function parseJson(text: string, status: number): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new KallimaConnectionError(
      "invalid_response",
      `The API answered ${status} with a body that is not JSON.`,
      { cause: error },
    );
  }
}

function apiError(response: Response, text: string): KallimaApiError {
  let problem: ProblemDetails = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
      problem = parsed as ProblemDetails;
    }
  } catch {
    // Not problem+json (a proxy's HTML page, say): keep what little it says.
    const snippet = text.trim().slice(0, 300);
    problem = {
      ...(response.statusText ? { title: response.statusText } : {}),
      ...(snippet ? { detail: snippet } : {}),
    };
  }
  const headerId = response.headers.get("x-request-id") ?? response.headers.get("request-id");
  const requestId = typeof problem.request_id === "string" ? problem.request_id : headerId;
  return apiErrorFor({
    status: response.status,
    problem,
    requestId: requestId ?? undefined,
    retryAfterSeconds: parseRetryAfter(response.headers.get("retry-after")),
  });
}

/** `Retry-After` is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - Date.now()) / 1000));
}
