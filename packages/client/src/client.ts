import { KallimaConnectionError } from "./errors.js";
import { Transport } from "./transport.js";
import { DEFAULT_INFERRED_PATHS, type InferredPaths, Webhooks } from "./webhooks.js";

/** Kallima's API, unless `baseUrl` says otherwise. */
export const DEFAULT_BASE_URL = "https://api.kallima.example";

/** Options of {@link KallimaClient}. */
export interface KallimaClientOptions {
  /** Your Kallima API key, sent as `Authorization: Bearer …`. It is never logged nor shown. */
  apiKey: string;
  /** Default {@link DEFAULT_BASE_URL}; e.g. `http://localhost:4010` for `kallima-webhooks dev`. */
  baseUrl?: string;
  /**
   * Milliseconds to wait for each attempt's whole answer. Default 30000. `test` and
   * `retryDelivery` wait 30 s more: their answer comes after Kallima's attempt at your endpoint.
   */
  timeoutMs?: number;
  /**
   * Retries of an idempotent call (GET, DELETE, a PATCH that is not a rotation) after a 429, a
   * 5xx, a timeout or a network error. Default 2. Never for other 4xx, never for a POST or a
   * rotation: the endpoints API documents no `Idempotency-Key`.
   */
  maxRetries?: number;
  /** The first backoff in ms, doubled at each retry (with jitter). Default 500. */
  retryDelayMs?: number;
  /**
   * The longest wait between attempts, in ms. Default 20000. A `Retry-After` asking for longer
   * ends the retries (the error says `retryAfterSeconds`) rather than block the call.
   */
  maxRetryDelayMs?: number;
  /** Another `fetch` (a Workers service binding, a proxy agent, a test double). Default the global one. */
  fetch?: typeof fetch;
  /** Extra headers sent with every call; `authorization` cannot be replaced here. */
  headers?: Record<string, string>;
  /** Replacements for the paths the reference does not give (see {@link DEFAULT_INFERRED_PATHS}). */
  paths?: Partial<InferredPaths>;
}

/**
 * A client of Kallima's management API. Fetch-based: runs on Node ≥ 20, Bun, Deno, Cloudflare
 * Workers and in the browser-free edge runtimes.
 *
 * @example
 * ```ts
 * const kallima = new KallimaClient({ apiKey: process.env.KALLIMA_API_KEY! });
 * const hook = await kallima.webhooks.create({ url: "https://example.com/kallima-events" });
 * ```
 */
export class KallimaClient {
  /** Register, list, update, rotate, pause, delete and test endpoints; read and retry deliveries. */
  readonly webhooks: Webhooks;

  constructor(options: KallimaClientOptions) {
    if (typeof options?.apiKey !== "string" || options.apiKey.trim() === "") {
      throw new KallimaConnectionError(
        "invalid_argument",
        "apiKey is missing: pass your Kallima API key (for example from process.env.KALLIMA_API_KEY).",
      );
    }
    const timeoutMs = positive(options.timeoutMs, 30_000, "timeoutMs");
    const maxRetries = wholeNumber(options.maxRetries, 2, "maxRetries");
    const transport = new Transport({
      apiKey: options.apiKey,
      baseUrl: parseBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL),
      timeoutMs,
      retry: {
        maxRetries,
        baseDelayMs: wholeNumber(options.retryDelayMs, 500, "retryDelayMs"),
        maxDelayMs: wholeNumber(options.maxRetryDelayMs, 20_000, "maxRetryDelayMs"),
      },
      // Bound late, so that a fetch replaced after construction (in tests, by polyfills) is used.
      fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
      headers: withoutAuthorization(options.headers ?? {}),
    });
    this.webhooks = new Webhooks(transport, { ...DEFAULT_INFERRED_PATHS, ...options.paths });
  }
}

function parseBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new KallimaConnectionError("invalid_argument", `baseUrl "${value}" is not a URL.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new KallimaConnectionError("invalid_argument", `baseUrl "${value}" is not http(s).`);
  }
  if (url.search !== "" || url.hash !== "") {
    throw new KallimaConnectionError(
      "invalid_argument",
      `baseUrl "${value}" must not have a query or fragment.`,
    );
  }
  // A path prefix (a gateway's /kallima) is kept: paths are appended, not resolved.
  return url.href.replace(/\/+$/, "");
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new KallimaConnectionError("invalid_argument", `${name} must be > 0, got ${value}.`);
  }
  return value;
}

function wholeNumber(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new KallimaConnectionError(
      "invalid_argument",
      `${name} must be a whole number ≥ 0, got ${value}.`,
    );
  }
  return value;
}

function withoutAuthorization(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers)
      .map(([name, value]) => [name.toLowerCase(), value] as const)
      .filter(([name]) => name !== "authorization"),
  );
}
