import type { KallimaEvent, KallimaEventType, VerifiedKallimaEvent } from "./events.js";

/** A function run for a verified event. Throwing or rejecting makes the delivery fail (500), so it is retried. */
export type EventHandler<TEvent> = (event: TEvent) => unknown;

/** Handlers by event type, typed by {@link KallimaEventMap}. */
export type EventHandlers = {
  [TType in KallimaEventType]?: EventHandler<KallimaEvent<TType>>;
};

/** Handlers registered per event type; several for one type run in registration order. */
export class HandlerRegistry {
  readonly #handlers = new Map<string, EventHandler<VerifiedKallimaEvent>[]>();

  add(type: string, handler: EventHandler<never>): void {
    const list = this.#handlers.get(type);
    const typed = handler as EventHandler<VerifiedKallimaEvent>;
    if (list) list.push(typed);
    else this.#handlers.set(type, [typed]);
  }

  get(type: string): readonly EventHandler<VerifiedKallimaEvent>[] | undefined {
    return this.#handlers.get(type);
  }

  /**
   * Runs every handler for the event, one after another; the first failure stops the rest.
   * Returns a promise only once a handler does, so synchronous handlers cost no extra tick.
   */
  static run(
    handlers: readonly EventHandler<VerifiedKallimaEvent>[],
    event: VerifiedKallimaEvent,
    from = 0,
  ): void | Promise<void> {
    for (let index = from; index < handlers.length; index++) {
      const result = handlers[index]!(event);
      if (isPromiseLike(result)) {
        return Promise.resolve(result).then(() => HandlerRegistry.run(handlers, event, index + 1));
      }
    }
  }
}

/** True for promises and thenables. Awaiting a plain value still costs a microtask tick. */
export function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === "function";
}
