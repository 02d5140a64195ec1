import type { KallimaEvent, KallimaEventType, VerifiedKallimaEvent } from "./events.js";

/**
 * A function run for a verified event. Throwing or rejecting makes the delivery fail (500), so it
 * is retried. `context` is what the adapter passes along with the request (Hono passes its
 * context, so that Workers handlers reach `c.env`); it is `undefined` where there is none.
 */
export type EventHandler<TEvent, TContext = unknown> = (
  event: TEvent,
  context: TContext,
) => unknown;

/** Handlers by event type, typed by {@link KallimaEventMap}. */
export type EventHandlers<TContext = unknown> = {
  [TType in KallimaEventType]?: EventHandler<KallimaEvent<TType>, TContext>;
};

/**
 * Keys of an `on` map that are not event types, each mapped to a message that the compiler
 * shows instead of an error naming this library's internal types. The helpers infer the `on`
 * map's type to check it; when a call gives its type arguments explicitly (say
 * `kallimaWebhooks<MyEnv>(…)`), TypeScript infers none of the others, so a typo is still refused,
 * with TypeScript's own excess-property message.
 */
export type UnknownEventTypes<TOn> = {
  [K in Exclude<
    keyof TOn,
    KallimaEventType
  >]: `"${K & string}" is not a Kallima event type: fix the spelling, handle it in onUnhandled, or add it to KallimaEventMap`;
};

/** A handler as stored: the registry serves every type and every context. */
export type AnyEventHandler = EventHandler<VerifiedKallimaEvent, unknown>;

/** Runs one handler call (the `index`th of its type) inside an instrumentation's step. */
export type HandlerStep = (index: number, call: () => unknown) => unknown;

/** Handlers registered per event type; several for one type run in registration order. */
export class HandlerRegistry {
  readonly #handlers = new Map<string, AnyEventHandler[]>();

  add(type: string, handler: EventHandler<never, never>): void {
    const list = this.#handlers.get(type);
    const typed = handler as AnyEventHandler;
    if (list) list.push(typed);
    else this.#handlers.set(type, [typed]);
  }

  get(type: string): readonly AnyEventHandler[] | undefined {
    return this.#handlers.get(type);
  }

  /**
   * Runs every handler for the event, one after another; the first failure stops the rest.
   * Returns a promise only once a handler does, so synchronous handlers cost no extra tick.
   */
  static run(
    handlers: readonly AnyEventHandler[],
    event: VerifiedKallimaEvent,
    context: unknown,
    from = 0,
    step?: HandlerStep,
  ): void | Promise<void> {
    for (let index = from; index < handlers.length; index++) {
      const handler = handlers[index]!;
      const result = step ? step(index, () => handler(event, context)) : handler(event, context);
      if (isPromiseLike(result)) {
        return Promise.resolve(result).then(() =>
          HandlerRegistry.run(handlers, event, context, index + 1, step),
        );
      }
    }
  }
}

/** True for promises and thenables. Awaiting a plain value still costs a microtask tick. */
export function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === "function";
}
