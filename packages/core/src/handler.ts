import { checkBodySize, DEFAULT_MAX_BODY_BYTES, readRequestBody } from "./body.js";
import { createDispatcher, DEFAULT_DEADLINE_MS, resultReporter } from "./delivery.js";
import {
  type AnyEventHandler,
  type EventHandler,
  type EventHandlers,
  HandlerRegistry,
  isPromiseLike,
  type UnknownEventTypes,
} from "./dispatch.js";
import {
  KallimaWebhookError,
  RawBodyUnavailableError,
  RequestAbortedError,
  WebhookConfigError,
} from "./errors.js";
import type { KallimaEvent, KallimaEventType, VerifiedKallimaEvent } from "./events.js";
import type { HeadersInput } from "./headers.js";
import { type IdempotencyStore, memoryStore, positiveOption } from "./idempotency.js";
import { createFailureLogger, type WebhookLogger } from "./logging.js";
import {
  createObserving,
  type DeliveryRecord,
  type DeliveryTracker,
  type WebhookInstrumentation,
} from "./observe.js";
import type { WebhookQueue } from "./queue/driver.js";
import { createEnqueuer } from "./queue/enqueue.js";
import { errorResult, methodNotAllowedResult, toResponse, type WebhookResult } from "./result.js";
import { createVerifierSource, type SecretOption } from "./secrets.js";
import {
  type RawBody,
  type VerifiedDelivery,
  verifyWithoutPromise,
  type WebhookVerifier,
  type WebhookVerifierOptions,
} from "./verify.js";

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
export interface WebhookHandlerOptions<TContext = unknown>
  extends Omit<WebhookVerifierOptions, "secret"> {
  /**
   * The endpoint's signing secret (`whsec_…`), a list during a rotation (any match is authentic),
   * or a function of the request's context returning either, sync or async. Keys are imported
   * once per distinct secret; deduplication and handlers are shared across all of them.
   */
  secret: SecretOption<TContext>;
  /**
   * Where failures are logged: receiver-side ones (handler failed, raw body unavailable, store
   * down, bad secret) as errors, rejected deliveries (4xx) as warnings. Default `console`;
   * `false` for silence. Lines never hold the secret, a signature or the body.
   */
  logger?: WebhookLogger | false;
  /** Handlers by event type. More can be added with `.on()`. */
  on?: EventHandlers<TContext>;
  /** Runs for verified events with no handler for their type (for example types newer than this release). */
  onUnhandled?: EventHandler<VerifiedKallimaEvent, TContext>;
  /**
   * Told about every failed delivery and every store fault, for logging. It may be async. What
   * it throws or rejects with is ignored, so that the answer stays correct and a logger whose
   * sink is down cannot crash the process.
   */
  onError?: (error: KallimaWebhookError, context: WebhookErrorContext) => unknown;
  /** Largest body accepted, in bytes (413 beyond). Default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * How long a delivery waits for its handlers, in milliseconds (default 25,000, inside
   * Kallima's 30-second timeout). At the deadline it is answered 503 with `Retry-After`
   * (`handler_timeout`); the handler goes on and keeps its claim, renewing the lease, so a retry
   * gets 409 while it runs and 200 `duplicate` once it succeeded, never a second run beside it.
   */
  deadlineMs?: number;
  /** Deduplication by event id (default: in memory). `false` turns it off. */
  idempotency?: IdempotencyOptions | false;
  /**
   * Told once per delivery, whatever became of it (405 and every rejection included), with a
   * flat {@link DeliveryRecord}: time, event id and type, outcome, status, code, duration,
   * matched secret, age and attempt. For the app's own log or database. It may be async; what
   * it throws or rejects with is ignored, as for `onError`. Never the secret, a signature or
   * the body.
   */
  onDelivery?: (record: DeliveryRecord) => unknown;
  /**
   * Traces and metrics: `otelInstrumentation()` from `@kallima/webhooks/otel` (OpenTelemetry),
   * or any {@link WebhookInstrumentation}. Nothing is measured when it is absent.
   */
  instrumentation?: WebhookInstrumentation;
  /**
   * Queue mode: verified deliveries are stored in this queue (raw body and headers, keyed by
   * event id) and answered 202 `queued` once it holds them; `createKallimaWorker` runs the
   * handlers. A repeat of a known id is answered 200 `duplicate`; a queue fault, 503 with
   * `Retry-After`. The queue dedupes, so `on`, `onUnhandled` and `idempotency` belong to the
   * worker and are refused here.
   */
  queue?: WebhookQueue;
}

/** Reads the exact body bytes, refusing (with `PayloadTooLargeError`) more than `maxBytes`. */
export type RawBodyReader = (maxBytes: number) => RawBody | PromiseLike<RawBody>;

/** What {@link WebhookHandler.handle} takes: the request headers and its raw body (or a promise of it). */
export interface WebhookRequest<TContext = unknown> {
  /** The HTTP method; anything but `POST` is answered 405. Leave it out when already checked. */
  method?: string;
  headers: HeadersInput;
  /**
   * The exact body bytes, a promise of them, or a reader the handler calls with its
   * `maxBodyBytes`. A promise may reject with a {@link KallimaWebhookError} (such as a
   * `PayloadTooLargeError` from a body reader), which becomes the matching answer; any other
   * rejection is an aborted request.
   */
  rawBody: RawBody | PromiseLike<RawBody> | RawBodyReader | null | undefined;
  /** Passed to the event handlers as their second argument (for example a framework's context). */
  context?: TContext;
}

/** A configured receiver: verify, deduplicate, dispatch. Adapters wrap one. */
export interface WebhookHandler<TContext = unknown> {
  /** The configured body limit, for adapters that read the body themselves. */
  readonly maxBodyBytes: number;
  /** The verifier in use; `undefined` when the secret is a function (one per secret then). */
  readonly verifier: WebhookVerifier | undefined;
  /** Adds a handler for one event type; several for one type all run. Chainable. */
  on<TType extends KallimaEventType>(
    type: TType,
    handler: EventHandler<KallimaEvent<TType>, TContext>,
  ): WebhookHandler<TContext>;
  /**
   * Handles a delivery and says what to answer. Every failure becomes a result (a body stream
   * that fails is `request_aborted`): it rejects only on a bug.
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
  | { ok: true; event: VerifiedKallimaEvent; delivery: VerifiedDelivery }
  | { ok: false; result: WebhookResult };

function validateMaxBodyBytes(value: unknown): number {
  return positiveOption("maxBodyBytes", value, DEFAULT_MAX_BODY_BYTES, { integer: true });
}

/** A body stream that failed for a reason of its own (a reset socket) is an aborted request. */
function bodyReadFailure(error: unknown): never {
  if (error instanceof KallimaWebhookError) throw error;
  throw new RequestAbortedError("The request body could not be read to its end.", {
    cause: error,
  });
}

// setTimeout's largest delay; longer ones fire at once.
const MAX_TIMER_MS = 2_147_483_647;

function validateDeadline(value: unknown): number {
  const deadlineMs = positiveOption("deadlineMs", value, DEFAULT_DEADLINE_MS, { integer: true });
  if (deadlineMs > MAX_TIMER_MS) {
    throw new WebhookConfigError(
      "invalid_option",
      `deadlineMs must be at most ${MAX_TIMER_MS} ms, got ${deadlineMs}; Kallima gives up after 30 s anyway.`,
    );
  }
  return deadlineMs;
}

/** Queue mode runs handlers in the worker only: options that would run or dedupe here are refused. */
function checkQueueMode(options: WebhookHandlerOptions<never>): void {
  const queue = options.queue as Partial<WebhookQueue> | null;
  if (typeof queue !== "object" || queue === null || typeof queue.enqueue !== "function") {
    throw new WebhookConfigError(
      "invalid_option",
      "queue must be a queue driver (an object with enqueue), such as sqliteQueue() or bullmqQueue().",
    );
  }
  const handlers = Object.keys(options.on ?? {}).length > 0 || options.onUnhandled !== undefined;
  if (handlers || options.idempotency !== undefined) {
    throw new WebhookConfigError(
      "invalid_option",
      `In queue mode the worker runs the handlers and the queue dedupes: pass ${
        handlers ? "on and onUnhandled" : "idempotency"
      } to createKallimaWorker instead, or drop queue to run them inline.`,
    );
  }
}

/**
 * What runs once a delivery is verified: dispatch for `handle()`, the outcome for `verify()`.
 * Passed down rather than returned up, so that the usual synchronous path allocates no
 * intermediate outcome per delivery.
 */
type AfterVerify<TContext, TResult> = (
  delivery: VerifiedDelivery,
  rawBody: RawBody,
  request: WebhookRequest<TContext>,
  tracker: DeliveryTracker | undefined,
) => TResult | Promise<TResult>;

/** What a rejected delivery's answer becomes for the caller. */
type AfterReject<TResult> = (result: WebhookResult) => TResult;

const answerAsIs: AfterReject<WebhookResult> = (result) => result;
const verifiedOutcome: AfterVerify<unknown, VerifyRequestOutcome> = (delivery) => ({
  ok: true,
  event: delivery.event,
  delivery,
});
const rejectedOutcome: AfterReject<VerifyRequestOutcome> = (result) => ({ ok: false, result });

/** Says on the result which secret matched and which header format the delivery used. */
function stamp(result: WebhookResult, delivery: VerifiedDelivery): WebhookResult {
  result.secretIndex = delivery.secretIndex;
  result.format = delivery.format;
  return result;
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
export function createWebhookHandler<TContext = unknown, TOn = EventHandlers<TContext>>(
  options: Omit<WebhookHandlerOptions<TContext>, "on"> & {
    /** Handlers by event type. More can be added with `.on()`. */
    on?: TOn & EventHandlers<TContext> & UnknownEventTypes<TOn>;
  },
): WebhookHandler<TContext> {
  return buildWebhookHandler(options, {});
}

/** How an adapter asks for a handler: when a bad secret should surface. */
export interface HandlerBuildSettings {
  /**
   * Report a bad static secret on each request (500 `invalid_secret`, logged) instead of
   * throwing at construction: for frameworks that evaluate route modules at build time, when
   * secrets are often absent (Next.js). Servers that start should fail fast, the default.
   */
  deferConfigErrors?: boolean;
}

/** {@link createWebhookHandler} with adapter settings; adapters reach it through `/adapter`. */
export function buildWebhookHandler<TContext = unknown>(
  options: WebhookHandlerOptions<TContext>,
  settings: HandlerBuildSettings,
): WebhookHandler<TContext> {
  if (typeof options !== "object" || options === null) {
    throw new WebhookConfigError(
      "invalid_option",
      "createWebhookHandler needs an options object: { secret, on }.",
    );
  }
  const verifiers = createVerifierSource<TContext>(
    options.secret,
    {
      ...(options.toleranceSeconds === undefined
        ? {}
        : { toleranceSeconds: options.toleranceSeconds }),
      ...(options.now === undefined ? {} : { now: options.now }),
    },
    settings.deferConfigErrors === true,
  );
  const maxBodyBytes = validateMaxBodyBytes(options.maxBodyBytes);
  const registry = new HandlerRegistry();
  for (const [type, handler] of Object.entries(options.on ?? {})) {
    if (typeof handler !== "function") {
      throw new WebhookConfigError("invalid_option", `on["${type}"] must be a function.`);
    }
    registry.add(type, handler);
  }
  const { onUnhandled, onError } = options;
  if (onUnhandled !== undefined && typeof onUnhandled !== "function") {
    throw new WebhookConfigError("invalid_option", "onUnhandled must be a function.");
  }
  if (onError !== undefined && typeof onError !== "function") {
    throw new WebhookConfigError("invalid_option", "onError must be a function.");
  }
  const unhandled = onUnhandled ? [onUnhandled as AnyEventHandler] : undefined;
  const { queue } = options;
  if (queue !== undefined) checkQueueMode(options);
  const idempotency = options.idempotency === false ? undefined : (options.idempotency ?? {});
  const store = idempotency ? (idempotency.store ?? memoryStore()) : undefined;
  const deadlineMs = validateDeadline(options.deadlineMs);
  const log = createFailureLogger(options.logger);
  const observing = createObserving({
    onDelivery: options.onDelivery,
    instrumentation: options.instrumentation,
    now: typeof options.now === "function" ? options.now : Date.now,
  });

  const report = (error: KallimaWebhookError, context: WebhookErrorContext) => {
    log?.(error, context.status, context.event);
    try {
      const logged = onError?.(error, context);
      // An async logger whose sink is down must not become an unhandled rejection.
      if (isPromiseLike(logged)) Promise.resolve(logged).catch(() => {});
    } catch {
      // A logging callback must not change what the sender is told.
    }
  };
  const fail = resultReporter(report);

  const enqueue =
    queue === undefined
      ? undefined
      : createEnqueuer({
          queue,
          deadlineMs,
          report,
          now: typeof options.now === "function" ? options.now : Date.now,
        });
  const dispatch = createDispatcher({
    registry,
    unhandled,
    store,
    processOnStoreError: idempotency?.onStoreError === "process",
    deadlineMs,
    report,
  });

  const readBody = (rawBody: WebhookRequest<TContext>["rawBody"]) => {
    const body = typeof rawBody === "function" ? rawBody(maxBodyBytes) : rawBody;
    return isPromiseLike(body) ? Promise.resolve(body).then(undefined, bodyReadFailure) : body;
  };

  /**
   * The secret lookup and verification. Not async: with a static secret and a synchronous
   * engine it makes no promise at all.
   */
  const verifyBody = (
    request: WebhookRequest<TContext>,
    rawBody: RawBody,
  ): VerifiedDelivery | Promise<VerifiedDelivery> => {
    const source = verifiers.get(request.context);
    const verify = (verifier: WebhookVerifier) =>
      verifyWithoutPromise(verifier, {
        payload: checkBodySize(rawBody, maxBodyBytes),
        headers: request.headers,
      });
    if (isPromiseLike(source)) return Promise.resolve(source).then(verify);
    // A static secret: no closure made for the usual path.
    return verifyWithoutPromise(source, {
      payload: checkBodySize(rawBody, maxBodyBytes),
      headers: request.headers,
    });
  };

  /** A coded failure becomes its answer; anything else is a bug and rejects. */
  const rejection = (error: unknown): WebhookResult => {
    const known = asWebhookError(error);
    if (!known) throw error;
    return fail(errorResult(known));
  };

  const verifyRead = <TResult>(
    request: WebhookRequest<TContext>,
    rawBody: RawBody | null | undefined,
    tracker: DeliveryTracker | undefined,
    next: AfterVerify<TContext, TResult>,
    rejected: AfterReject<TResult>,
  ): TResult | Promise<TResult> => {
    let verifying: VerifiedDelivery | Promise<VerifiedDelivery>;
    try {
      if (rawBody === null || rawBody === undefined) {
        throw new RawBodyUnavailableError(
          "No raw request body was given to the webhook handler. Pass the exact bytes received: the signature covers them.",
        );
      }
      const observation = tracker?.observation;
      verifying = observation
        ? observation.step({ name: "verify" }, () => verifyBody(request, rawBody))
        : verifyBody(request, rawBody);
    } catch (error) {
      return rejected(rejection(error));
    }
    // Outside the try: what comes next failing is not a rejected delivery.
    return isPromiseLike(verifying)
      ? Promise.resolve(verifying).then(
          (delivery) => next(delivery, rawBody, request, tracker),
          (error: unknown) => rejected(rejection(error)),
        )
      : next(verifying, rawBody, request, tracker);
  };

  /**
   * Reads the body, verifies it and goes on with `next`, or answers with `rejected`. Not async:
   * with a body in hand, a static secret and a synchronous engine, no promise is made (a small
   * delivery costs a few µs, a tick is felt).
   */
  const verifyRequest = <TResult>(
    request: WebhookRequest<TContext>,
    tracker: DeliveryTracker | undefined,
    next: AfterVerify<TContext, TResult>,
    rejected: AfterReject<TResult>,
  ): TResult | Promise<TResult> => {
    let pending: ReturnType<typeof readBody>;
    try {
      pending = readBody(request.rawBody);
    } catch (error) {
      return rejected(rejection(error));
    }
    return isPromiseLike(pending)
      ? Promise.resolve(pending).then(
          (rawBody) => verifyRead(request, rawBody, tracker, next, rejected),
          (error: unknown) => rejected(rejection(error)),
        )
      : verifyRead(request, pending, tracker, next, rejected);
  };

  /** Dispatches a verified delivery (or enqueues it, in queue mode). */
  const dispatchVerified: AfterVerify<TContext, WebhookResult> = (
    delivery,
    rawBody,
    request,
    tracker,
  ) => {
    tracker?.verified(delivery);
    const dispatched = enqueue
      ? enqueue(delivery.event, rawBody, request.headers)
      : dispatch(delivery.event, request.context, tracker?.observation);
    return isPromiseLike(dispatched)
      ? dispatched.then((result) => stamp(result, delivery))
      : stamp(dispatched, delivery);
  };

  const route = (
    request: WebhookRequest<TContext>,
    tracker: DeliveryTracker | undefined,
  ): WebhookResult | Promise<WebhookResult> => {
    if (request.method !== undefined && request.method !== "POST") return methodNotAllowedResult();
    return verifyRequest(request, tracker, dispatchVerified, answerAsIs);
  };

  /**
   * verify → dispatch, and with a tracker its record: once answered, or when it rejects. The
   * one promise of the plain path is the one `handle()` returns.
   */
  const deliver = (
    request: WebhookRequest<TContext>,
    tracker?: DeliveryTracker,
  ): Promise<WebhookResult> => {
    // Unobserved, the usual case: no closures, the route's result as the one promise.
    if (!tracker) {
      try {
        return Promise.resolve(route(request, undefined));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const finish = (result: WebhookResult) => {
      tracker.finish(result);
      return result;
    };
    const failed = (error: unknown): never => {
      tracker.failed();
      throw error;
    };
    try {
      const result = route(request, tracker);
      if (!isPromiseLike(result)) return Promise.resolve(finish(result));
      return result.then((settled) => {
        try {
          return finish(settled);
        } catch (error) {
          return failed(error);
        }
      }, failed);
    } catch (error) {
      tracker.failed();
      return Promise.reject(error);
    }
  };

  const verifyOnly = (
    request: WebhookRequest<TContext>,
    tracker?: DeliveryTracker,
  ): Promise<VerifyRequestOutcome> => {
    if (request.method !== undefined && request.method !== "POST") {
      return Promise.resolve({ ok: false, result: methodNotAllowedResult() });
    }
    try {
      return Promise.resolve(
        verifyRequest(
          request,
          tracker,
          verifiedOutcome as AfterVerify<TContext, VerifyRequestOutcome>,
          rejectedOutcome,
        ),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  };

  /** `verifyOnly`, then its record: `verified` (the app's route answers) or the rejection. */
  const verifyObserved = async (
    request: WebhookRequest<TContext>,
    tracker: DeliveryTracker,
  ): Promise<VerifyRequestOutcome> => {
    let verified: VerifyRequestOutcome;
    try {
      verified = await verifyOnly(request, tracker);
    } catch (error) {
      tracker.failed();
      throw error;
    }
    if (verified.ok) tracker.verified(verified.delivery);
    tracker.finish(verified.ok ? undefined : verified.result);
    return verified;
  };

  const handler: WebhookHandler<TContext> = {
    maxBodyBytes,
    verifier: verifiers.fixed,
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
    handle: (request) => deliver(request, observing?.("handle")),
    verify: (request) =>
      observing ? verifyObserved(request, observing("verify")) : verifyOnly(request),
    async fetch(request, context) {
      const result = await handler.handle({
        method: request.method,
        headers: request.headers,
        rawBody: (limit) => readRequestBody(request, limit),
        // Not a conditional spread (slow in V8 on every request): undefined reads as absent.
        context,
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
  settings: HandlerBuildSettings = {},
): WebhookHandler<TContext> {
  if (isWebhookHandler<TContext>(input)) return input;
  return buildWebhookHandler(input, settings);
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
