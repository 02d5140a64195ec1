import {
  type AnyEventHandler,
  type EventHandler,
  type EventHandlers,
  HandlerRegistry,
  isPromiseLike,
  type UnknownEventTypes,
} from "../dispatch.js";
import { HandlerFailedError, WebhookConfigError } from "../errors.js";
import type { KallimaEvent, KallimaEventType, VerifiedKallimaEvent } from "../events.js";
import { positiveOption } from "../idempotency.js";
import type { WebhookLogger } from "../logging.js";
import { type BackoffOptions, backoffDelay } from "./backoff.js";
import type { QueueConsumer, QueuedDelivery, QueueProcessor, WebhookQueue } from "./driver.js";

/** The second argument of a worker's handlers. */
export interface WorkerJobContext {
  /** Which attempt this is, from 1 (a run cut short by a crash counts as one). */
  readonly attempt: number;
  /** Attempts before the event is dead-lettered. */
  readonly attempts: number;
  /** The event, as the handler's first argument has it. */
  readonly event: VerifiedKallimaEvent;
  /** The delivery as the receiver stored it: raw body, headers, time received. */
  readonly delivery: QueuedDelivery;
}

/** Told about each failed attempt. */
export interface WorkerFailureContext {
  event: VerifiedKallimaEvent;
  attempt: number;
  /** True when this was the last attempt: the event is now dead-lettered. */
  deadLettered: boolean;
}

/** Options of {@link createKallimaWorker}. */
export interface KallimaWorkerOptions {
  /** The queue the receiver stores deliveries in (its `queue` option). */
  queue: WebhookQueue;
  /** Handlers by event type, as for the inline handler. More can be added with `.on()`. */
  on?: EventHandlers<WorkerJobContext>;
  /** Runs for events with no handler for their type. Without it they are done at once. */
  onUnhandled?: EventHandler<VerifiedKallimaEvent, WorkerJobContext>;
  /** Jobs run at once by this worker. Default 1. */
  concurrency?: number;
  /** Attempts before an event is dead-lettered with its last error. Default 8. */
  attempts?: number;
  /** The wait between attempts. Default: from 1 s, doubling, at most 5 min, half of it random. */
  backoff?: BackoffOptions;
  /** Told about every failed attempt. What it throws or rejects with is ignored. */
  onError?: (error: HandlerFailedError, context: WorkerFailureContext) => unknown;
  /** Where failed attempts are logged (retries as warnings, dead letters as errors). Default `console`. */
  logger?: WebhookLogger | false;
  /**
   * Signals on which the worker stops taking jobs, lets the ones in flight finish, then exits
   * the process (when nothing else listens for the signal). Default `["SIGTERM", "SIGINT"]`;
   * `false` to manage shutdown yourself with `close()`.
   */
  shutdownSignals?: readonly ("SIGTERM" | "SIGINT" | "SIGHUP")[] | false;
}

/** A running worker. */
export interface KallimaWorker {
  /** Adds a handler for one event type; several for one type all run. Chainable. */
  on<TType extends KallimaEventType>(
    type: TType,
    handler: EventHandler<KallimaEvent<TType>, WorkerJobContext>,
  ): KallimaWorker;
  /** Stops taking jobs; resolves once the jobs in flight have finished and been recorded. */
  close(): Promise<void>;
}

interface SignalTarget {
  once(signal: string, listener: () => void): unknown;
  off(signal: string, listener: () => void): unknown;
  listenerCount(signal: string): number;
  exit(code?: number): never;
}

function signalTarget(): SignalTarget | undefined {
  const candidate = (globalThis as { process?: Partial<SignalTarget> }).process;
  return typeof candidate?.once === "function" && typeof candidate.off === "function"
    ? (candidate as SignalTarget)
    : undefined;
}

/**
 * Runs the handlers of queued deliveries: the same `on` map and `.on()` as the inline handler,
 * with a context holding the attempt number. A failed attempt is retried after an exponential,
 * jittered wait; after `attempts` the event is dead-lettered with its last error (see the CLI's
 * `queue failed` and `queue replay`).
 *
 * @example
 * ```ts
 * const worker = createKallimaWorker({
 *   queue,
 *   on: { "job.completed": async (event, { attempt }) => saveResult(event.data.id, attempt) },
 *   concurrency: 4,
 * });
 * ```
 */
export function createKallimaWorker<TOn = EventHandlers<WorkerJobContext>>(
  options: Omit<KallimaWorkerOptions, "on"> & {
    /** Handlers by event type. More can be added with `.on()`. */
    on?: TOn & EventHandlers<WorkerJobContext> & UnknownEventTypes<TOn>;
  },
): KallimaWorker {
  if (typeof options !== "object" || options === null) {
    throw new WebhookConfigError("invalid_option", "createKallimaWorker needs { queue, on }.");
  }
  const { queue, onUnhandled, onError } = options;
  if (typeof queue !== "object" || queue === null || typeof queue.consume !== "function") {
    throw new WebhookConfigError(
      "invalid_option",
      "createKallimaWorker needs a queue driver (an object with consume).",
    );
  }
  if (onUnhandled !== undefined && typeof onUnhandled !== "function") {
    throw new WebhookConfigError("invalid_option", "onUnhandled must be a function.");
  }
  if (onError !== undefined && typeof onError !== "function") {
    throw new WebhookConfigError("invalid_option", "onError must be a function.");
  }
  const concurrency = positiveOption("concurrency", options.concurrency, 1, { integer: true });
  const attempts = positiveOption("attempts", options.attempts, 8, { integer: true });
  const retryDelayMs = backoffDelay(options.backoff);
  const registry = new HandlerRegistry();
  for (const [type, handler] of Object.entries(options.on ?? {})) {
    if (typeof handler !== "function") {
      throw new WebhookConfigError("invalid_option", `on["${type}"] must be a function.`);
    }
    registry.add(type, handler as EventHandler<never, never>);
  }
  const unhandled = onUnhandled ? [onUnhandled as AnyEventHandler] : undefined;
  const logger = options.logger === undefined ? console : options.logger;

  const report = (error: HandlerFailedError, context: WorkerFailureContext) => {
    if (logger) {
      const { event, attempt, deadLettered } = context;
      const details = { code: error.code, status: 500, eventId: event.id, eventType: event.type };
      const cause = { ...details, cause: error.cause };
      if (deadLettered) {
        logger.error(
          `[kallima-webhooks] worker: ${error.message} Attempt ${attempt} of ${attempts}: event ${event.id} is dead-lettered (replay it with \`kallima-webhooks queue replay ${event.id}\`).`,
          cause,
        );
      } else {
        logger.warn(
          `[kallima-webhooks] worker: ${error.message} Attempt ${attempt} of ${attempts} for event ${event.id}; it will be retried.`,
          cause,
        );
      }
    }
    try {
      const told = onError?.(error, context);
      if (isPromiseLike(told)) Promise.resolve(told).catch(() => {});
    } catch {
      // A logging callback must not change how the job is recorded.
    }
  };

  const processor: QueueProcessor = async (job) => {
    const event = JSON.parse(job.delivery.rawBody) as VerifiedKallimaEvent;
    const handlers = registry.get(event.type) ?? unhandled;
    if (!handlers) return;
    const context: WorkerJobContext = {
      attempt: job.attempt,
      attempts,
      event,
      delivery: job.delivery,
    };
    try {
      await HandlerRegistry.run(handlers, event, context);
    } catch (cause) {
      report(new HandlerFailedError(event.type, cause), {
        event,
        attempt: job.attempt,
        deadLettered: job.attempt >= attempts,
      });
      // The driver keeps what the handler threw as the job's last error.
      throw cause;
    }
  };

  const consumer: QueueConsumer = queue.consume(processor, {
    concurrency,
    attempts,
    retryDelayMs,
  });

  let closing: Promise<void> | undefined;
  const signals =
    options.shutdownSignals === undefined ? ["SIGTERM", "SIGINT"] : options.shutdownSignals;
  const target = signals === false ? undefined : signalTarget();
  const listeners = new Map<string, () => void>();
  const close = (): Promise<void> => {
    closing ??= (async () => {
      for (const [signal, listener] of listeners) target?.off(signal, listener);
      await consumer.close();
    })();
    return closing;
  };
  if (target && signals !== false) {
    for (const signal of signals) {
      const listener = () => {
        listeners.delete(signal);
        void close().then(() => {
          // Someone else listens for it (a server's own shutdown): leave the exit to them.
          if (target.listenerCount(signal) === 0) target.exit(0);
        });
      };
      listeners.set(signal, listener);
      target.once(signal, listener);
    }
  }

  const worker: KallimaWorker = {
    on(type, handler) {
      if (typeof handler !== "function") {
        throw new WebhookConfigError(
          "invalid_option",
          `The handler for "${type}" must be a function.`,
        );
      }
      registry.add(type, handler as EventHandler<never, never>);
      return worker;
    },
    close,
  };
  return worker;
}
