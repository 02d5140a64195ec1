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

  /** Runs every handler for the event, one after another; the first failure stops the rest. */
  static async run(
    handlers: readonly EventHandler<VerifiedKallimaEvent>[],
    event: VerifiedKallimaEvent,
  ): Promise<void> {
    for (const handler of handlers) await handler(event);
  }
}
