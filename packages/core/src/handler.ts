import { checkBodySize, DEFAULT_MAX_BODY_BYTES, readRequestBody } from "./body.js";
import {
  type AnyEventHandler,
  type EventHandler,
  type EventHandlers,
  HandlerRegistry,
  isPromiseLike,
} from "./dispatch.js";
import {
  HandlerFailedError,
  IdempotencyStoreError,
  KallimaWebhookError,
  RawBodyUnavailableError,
  WebhookConfigError,
} from "./errors.js";
import type { KallimaEvent, KallimaEventType, VerifiedKallimaEvent } from "./events.js";
import type { HeadersInput } from "./headers.js";
import { type ClaimResult, type IdempotencyStore, memoryStore } from "./idempotency.js";
import {
  acceptedResult,
  errorResult,
  inProgressResult,
  methodNotAllowedResult,
  toResponse,
  type WebhookResult,
} from "./result.js";
import { type RawBody, WebhookVerifier, type WebhookVerifierOptions } from "./verify.js";

/** Idempotency settings: where handled event ids live, and what to do when that store fails. */
export interface IdempotencyOptions {
  /** Default: a bounded `memoryStore()` per handler (dedupes within one process). */
  store?: IdempotencyStore;
  /**
   * When the store fails: `"reject"` (default) answers 503 with `Retry-After` and runs nothing,
   * so the sender retries and nothing is lost. `"process"` runs the handlers anyway: a
   * duplicate delivery may then run them twice.
   */
  onStoreError?: "reject" | "process";
}

/** Context passed to `onError`. */
export interface WebhookErrorContext {
  /** The verified event, when the failure came after verification. */
  event?: VerifiedKallimaEvent;
  /** The status answered, or 200 when a failure did not change the answer (a failed `markDone`). */
  status: number;
}

/**
 * Options of {@link createWebhookHandler}, shared by every adapter.
 *
 * @example
 * ```ts
 * createWebhookHandler({
 *   secret: process.env.KALLIMA_WEBHOOK_SECRET!,
 *   on: { "job.completed": (event) => saveResult(event.data.id) },
 * });
 * ```
 */
export interface WebhookHandlerOptions<TContext = unknown> extends WebhookVerifierOptions {
  /** Handlers by event type. More can be added with `.on()`. */
  on?: EventHandlers<TContext>;
  /** Runs for verified events with no handler for their type (for example types newer than this release). */
  onUnhandled?: EventHandler<VerifiedKallimaEvent, TContext>;
  /**
   * Told about every failed delivery and every store fault, for logging. It must not throw;
   * if it does, the error is ignored so that the answer stays correct.
   */
  onError?: (error: KallimaWebhookError, context: WebhookErrorContext) => void;
  /** Largest body accepted, in bytes (413 beyond). Default 1 MiB. */
  maxBodyBytes?: number;
  /** Deduplication by event id (default: in memory). `false` turns it off. */
  idempotency?: IdempotencyOptions | false;
}

/** What {@link WebhookHandler.handle} takes: the request headers and its raw body (or a promise of it). */
export interface WebhookRequest<TContext = unknown> {
  headers: HeadersInput;
  /**
   * The exact body bytes. A promise may reject with a {@link KallimaWebhookError} (such as a
   * `PayloadTooLargeError` from a body reader), which becomes the matching answer.
   */
  rawBody: RawBody | PromiseLike<RawBody> | null | undefined;
  /** Passed to the event handlers as their second argument (for example a framework's context). */
  context?: TContext;
}

/** A configured receiver: verify, deduplicate, dispatch. Adapters wrap one. */
export interface WebhookHandler<TContext = unknown> {
  /** The configured body limit, for adapters that read the body themselves. */
  readonly maxBodyBytes: number;
  /** The verifier in use. */
  readonly verifier: WebhookVerifier;
  /** Adds a handler for one event type; several for one type all run. Chainable. */
  on<TType extends KallimaEventType>(
    type: TType,
    handler: EventHandler<KallimaEvent<TType>, TContext>,
  ): WebhookHandler<TContext>;
  /**
   * Handles a delivery and says what to answer. Every failure this library knows becomes a
   * result; it rejects only with errors that are not its own (such as a broken body stream).
   */
  handle(request: WebhookRequest<TContext>): Promise<WebhookResult>;
  /**
   * Handles a Fetch `Request` (Workers, Bun, Deno, Next.js route handlers). `context` reaches the
   * handlers as their second argument (on Workers, for example, `{ env }`).
   */
  fetch(request: Request, context?: TContext): Promise<Response>;
  /**
   * Verifies only: no deduplication, no handlers. For verify-only middleware that hands the
   * event to the app's own route. On failure, `result` is the answer to send.
   */
  verify(request: WebhookRequest<TContext>): Promise<VerifyRequestOutcome>;
}

/** The outcome of {@link WebhookHandler.verify}. */
export type VerifyRequestOutcome =
  | { ok: true; event: VerifiedKallimaEvent }
  | { ok: false; result: WebhookResult & { error: KallimaWebhookError } };

function validateMaxBodyBytes(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_BODY_BYTES;
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new WebhookConfigError(
      "invalid_option",
      `maxBodyBytes must be a positive integer, got ${String(value)}.`,
    );
  }
  return value;
}

function asWebhookError(error: unknown): KallimaWebhookError | undefined {
  return error instanceof KallimaWebhookError ? error : undefined;
}

/**
 * Creates a webhook receiver: it verifies each delivery, drops repeats, runs the handler for the
 * event's type and says what to answer, so that Kallima retries exactly what failed.
 *
 * @example
 * ```ts
 * const webhooks = createWebhookHandler({ secret: process.env.KALLIMA_WEBHOOK_SECRET! })
 *   .on("job.completed", (event) => console.log(event.data.id))
 *   .on("job.failed", (event) => console.error(getFailureReason(event.data).message));
 * export default { fetch: (request: Request) => webhooks.fetch(request) };
 * ```
 */
export function createWebhookHandler<TContext = unknown>(
  options: WebhookHandlerOptions<TContext>,
): WebhookHandler<TContext> {
  if (typeof options !== "object" || options === null) {
    throw new WebhookConfigError(
      "invalid_option",
      "createWebhookHandler needs an options object: { secret, on }.",
    );
  }
  const verifier = new WebhookVerifier(options);
  const maxBodyBytes = validateMaxBodyBytes(options.maxBodyBytes);
  const registry = new HandlerRegistry();
  for (const [type, handler] of Object.entries(options.on ?? {})) {
    if (typeof handler !== "function") {
      throw new WebhookConfigError("invalid_option", `on["${type}"] must be a function.`);
    }
    registry.add(type, handler);
  }
  const { onUnhandled, onError } = options;
  const unhandled = onUnhandled ? [onUnhandled as AnyEventHandler] : undefined;
  const idempotency = options.idempotency === false ? undefined : (options.idempotency ?? {});
  const store = idempotency ? (idempotency.store ?? memoryStore()) : undefined;
  const processOnStoreError = idempotency?.onStoreError === "process";

  const report = (error: KallimaWebhookError, context: WebhookErrorContext) => {
    try {
      onError?.(error, context);
    } catch {
      // A logging callback must not change what the sender is told.
    }
  };
  const fail = <TResult extends WebhookResult>(result: TResult): TResult => {
    if (result.error)
      report(result.error, {
        status: result.status,
        ...(result.event ? { event: result.event } : {}),
      });
    return result;
  };

  const dispatch = async (
    event: VerifiedKallimaEvent,
    context: unknown,
  ): Promise<WebhookResult> => {
    const handlers = registry.get(event.type) ?? unhandled;
    if (!handlers) return acceptedResult("unhandled", event);

    let claimed = false;
    if (store) {
      let claim: ClaimResult | undefined;
      try {
        const pending = store.claim(event.id);
        claim = isPromiseLike(pending) ? await pending : pending;
      } catch (cause) {
        const fault = new IdempotencyStoreError("claim", cause);
        if (!processOnStoreError) return fail(errorResult(fault, "store_unavailable", event));
        report(fault, { status: 200, event });
      }
      if (claim === "done") return acceptedResult("duplicate", event);
      if (claim === "in_progress") return inProgressResult(event);
      claimed = claim === "claimed";
    }

    try {
      const running = HandlerRegistry.run(handlers, event, context);
      if (running) await running;
    } catch (cause) {
      if (claimed) {
        try {
          await store!.release(event.id);
        } catch (releaseCause) {
          // The lease still lapses on its own, so the retry runs after at most one lease.
          report(new IdempotencyStoreError("release", releaseCause), { status: 500, event });
        }
      }
      return fail(errorResult(new HandlerFailedError(event.type, cause), "handler_failed", event));
    }

    if (claimed) {
      try {
        const marked = store!.markDone(event.id);
        if (isPromiseLike(marked)) await marked;
      } catch (cause) {
        // The handler succeeded: answering non-2xx would make the sender repeat finished work.
        report(new IdempotencyStoreError("markDone", cause), { status: 200, event });
      }
    }
    return acceptedResult("handled", event);
  };

  const verifyRequest = async (
    request: WebhookRequest<TContext>,
  ): Promise<VerifyRequestOutcome> => {
    try {
      const rawBody = isPromiseLike(request.rawBody) ? await request.rawBody : request.rawBody;
      if (rawBody === null || rawBody === undefined) {
        throw new RawBodyUnavailableError(
          "No raw request body was given to the webhook handler. Pass the exact bytes received: the signature covers them.",
        );
      }
      const event = await verifier.verify({
        payload: checkBodySize(rawBody, maxBodyBytes),
        headers: request.headers,
      });
      return { ok: true, event };
    } catch (error) {
      const known = asWebhookError(error);
      if (!known) throw error;
      return { ok: false, result: fail(errorResult(known)) };
    }
  };

  const handler: WebhookHandler<TContext> = {
    maxBodyBytes,
    verifier,
    on(type, fn) {
      if (typeof fn !== "function") {
        throw new WebhookConfigError(
          "invalid_option",
          `The handler for "${type}" must be a function.`,
        );
      }
      registry.add(type, fn);
      return handler;
    },
    async handle(request) {
      const verified = await verifyRequest(request);
      return verified.ok ? dispatch(verified.event, request.context) : verified.result;
    },
    verify: (request) => verifyRequest(request),
    async fetch(request, context) {
      if (request.method !== "POST") return toResponse(methodNotAllowedResult());
      const result = await handler.handle({
        headers: request.headers,
        rawBody: readRequestBody(request, maxBodyBytes),
        ...(context === undefined ? {} : { context }),
      });
      return toResponse(result);
    },
  };
  return handler;
}

/**
 * Takes what adapters accept, handler options or a handler made with {@link createWebhookHandler},
 * and gives a handler.
 *
 * @example
 * ```ts
 * export function kallimaWebhooks(input: WebhookHandlerOptions | WebhookHandler) {
 *   const handler = resolveWebhookHandler(input);
 * }
 * ```
 */
export function resolveWebhookHandler<TContext = unknown>(
  input: WebhookHandlerOptions<TContext> | WebhookHandler<TContext>,
): WebhookHandler<TContext> {
  if (isWebhookHandler<TContext>(input)) return input;
  return createWebhookHandler(input);
}

/** True for a handler made with {@link createWebhookHandler}. */
export function isWebhookHandler<TContext = unknown>(
  value: unknown,
): value is WebhookHandler<TContext> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as WebhookHandler).handle === "function" &&
    typeof (value as WebhookHandler).fetch === "function" &&
    typeof (value as WebhookHandler).verify === "function" &&
    typeof (value as WebhookHandler).maxBodyBytes === "number"
  );
}
