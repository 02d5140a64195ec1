import {
  type AnyEventHandler,
  HandlerRegistry,
  type HandlerStep,
  isPromiseLike,
} from "./dispatch.js";
import {
  HandlerFailedError,
  HandlerTimeoutError,
  IdempotencyStoreError,
  type KallimaWebhookError,
} from "./errors.js";
import type { VerifiedKallimaEvent } from "./events.js";
import {
  type ClaimResult,
  DEFAULT_LEASE_SECONDS,
  type IdempotencyLease,
  type IdempotencyStore,
} from "./idempotency.js";
import type { DeliveryObservation } from "./observe.js";
import { acceptedResult, errorResult, inProgressResult, type WebhookResult } from "./result.js";

/** Default `deadlineMs`: an answer within Kallima's 30-second timeout, with room for the network. */
export const DEFAULT_DEADLINE_MS = 25_000;

/** Tells `onError` about a failure; `status` is what the sender was (or will be) answered. */
export type FailureReporter = (
  error: KallimaWebhookError,
  context: { status: number; event?: VerifiedKallimaEvent },
) => void;

/** What {@link createDispatcher} needs from the handler's options. */
export interface DispatcherSettings {
  registry: HandlerRegistry;
  unhandled: readonly AnyEventHandler[] | undefined;
  store: IdempotencyStore | undefined;
  processOnStoreError: boolean;
  deadlineMs: number;
  report: FailureReporter;
}

type Settled = { ok: true } | { ok: false; cause: unknown };
const SUCCEEDED: Settled = { ok: true };

/**
 * Tells the reporter about a result's error (with the status answered and the event, when
 * known) and gives the result back, so that a failure is reported where it is answered.
 */
export function resultReporter(
  report: FailureReporter,
): <TResult extends WebhookResult>(result: TResult) => TResult {
  return (result) => {
    if (result.error) {
      report(result.error, {
        status: result.status,
        ...(result.event ? { event: result.event } : {}),
      });
    }
    return result;
  };
}

/** Renews a lease while a handler runs, so that no retry starts a second run beside it. */
function keepLeaseAlive(
  store: IdempotencyStore,
  lease: IdempotencyLease,
  event: VerifiedKallimaEvent,
  report: FailureReporter,
): () => void {
  const periodMs = ((store.leaseSeconds ?? DEFAULT_LEASE_SECONDS) * 1000) / 3;
  const renew = async () => {
    try {
      if ((await store.extend(lease)) === false) {
        report(new IdempotencyStoreError("extend", new Error("the lease was lost")), {
          status: 200,
          event,
        });
      }
    } catch (cause) {
      // The lease still holds until it lapses; the next renewal may succeed.
      report(new IdempotencyStoreError("extend", cause), { status: 200, event });
    }
  };
  const timer = setInterval(() => void renew(), periodMs);
  // A renewal timer must never keep a process alive that is otherwise done.
  (timer as { unref?: () => void }).unref?.();
  return () => clearInterval(timer);
}

/**
 * Runs the handlers of a verified event under its claim: dedupe, run, mark done or release, with
 * a deadline on the answer. Returns the result to answer; a handler still running at the deadline
 * goes on in the background, keeping (and renewing) its claim until it settles.
 */
export function createDispatcher(
  settings: DispatcherSettings,
): (
  event: VerifiedKallimaEvent,
  context: unknown,
  observation?: DeliveryObservation,
) => WebhookResult | Promise<WebhookResult> {
  const { registry, unhandled, store, processOnStoreError, deadlineMs, report } = settings;

  const fail = resultReporter(report);

  /**
   * How a claim ended: a lease to run under, an answer that ends the delivery, or neither. A
   * store's `{ status: "claimed", lease }` is one as it is, so the usual claim allocates nothing.
   */
  type Claimed = { readonly lease?: IdempotencyLease; readonly answer?: WebhookResult };
  const unclaimed: Claimed = {};

  const claimFailed = (cause: unknown, event: VerifiedKallimaEvent): Claimed => {
    const fault = new IdempotencyStoreError("claim", cause);
    if (!processOnStoreError)
      return { answer: fail(errorResult(fault, "store_unavailable", event)) };
    report(fault, { status: 200, event });
    return unclaimed;
  };

  const claimed = (result: ClaimResult, event: VerifiedKallimaEvent): Claimed => {
    if (result.status === "done") return { answer: acceptedResult("duplicate", event) };
    if (result.status === "in_progress") return { answer: inProgressResult(event) };
    return result;
  };

  /**
   * Claims the event: a lease to run under, an answer that ends the delivery here (duplicate,
   * in progress, store down), or neither (no store, or `onStoreError: "process"`). Synchronous
   * with a synchronous store (the memory store): no promise for the usual path.
   */
  const claim = (
    event: VerifiedKallimaEvent,
    observation: DeliveryObservation | undefined,
  ): Claimed | Promise<Claimed> => {
    if (!store) return unclaimed;
    let pending: ClaimResult | PromiseLike<ClaimResult>;
    try {
      pending = observation
        ? observation.step({ name: "claim", eventId: event.id, eventType: event.type }, () =>
            store.claim(event.id),
          )
        : store.claim(event.id);
    } catch (cause) {
      return claimFailed(cause, event);
    }
    if (!isPromiseLike(pending)) return claimed(pending, event);
    return Promise.resolve(pending).then(
      (result) => claimed(result, event),
      (cause: unknown) => claimFailed(cause, event),
    );
  };

  /** Records how the run ended in the store; never throws. Synchronous with a synchronous store. */
  const settle = (
    event: VerifiedKallimaEvent,
    lease: IdempotencyLease | undefined,
    settled: Settled,
  ): void | Promise<void> => {
    if (!lease || !store) return;
    const failed = (cause: unknown) => {
      // After success, answering non-2xx would make the sender repeat finished work; after a
      // failure the lease lapses on its own, so the retry runs after at most one lease.
      report(new IdempotencyStoreError(settled.ok ? "markDone" : "release", cause), {
        status: settled.ok ? 200 : 500,
        event,
      });
    };
    let recorded: unknown;
    try {
      recorded = settled.ok ? store.markDone(lease) : store.release(lease);
    } catch (cause) {
      failed(cause);
      return;
    }
    if (isPromiseLike(recorded)) return Promise.resolve(recorded).then(() => {}, failed);
  };

  const answer = (
    event: VerifiedKallimaEvent,
    settled: Settled,
    outcome: "handled" | "unhandled",
  ): WebhookResult =>
    settled.ok
      ? acceptedResult(outcome, event)
      : fail(
          errorResult(new HandlerFailedError(event.type, settled.cause), "handler_failed", event),
        );

  /** The answer once `settle` (which may be pending) is done. */
  const after = (
    settling: void | Promise<void>,
    answered: () => WebhookResult,
  ): WebhookResult | Promise<WebhookResult> =>
    isPromiseLike(settling) ? settling.then(answered) : answered();

  /** Runs the handlers under the claim. Synchronous handlers and store: no promise at all. */
  const run = (
    event: VerifiedKallimaEvent,
    context: unknown,
    observation: DeliveryObservation | undefined,
    handlers: readonly AnyEventHandler[],
    outcome: "handled" | "unhandled",
    { lease, answer: early }: Claimed,
  ): WebhookResult | Promise<WebhookResult> => {
    if (early) return early;
    const step: HandlerStep | undefined = observation
      ? (index, call) => observation.step({ name: "handler", index, eventType: event.type }, call)
      : undefined;
    let running: void | Promise<void>;
    try {
      running = HandlerRegistry.run(handlers, event, context, 0, step);
    } catch (cause) {
      const settled: Settled = { ok: false, cause };
      return after(settle(event, lease, settled), () => answer(event, settled, outcome));
    }
    if (!running) {
      // Synchronous handlers: no timers, no extra ticks (and with a synchronous store, no closure).
      const settling = settle(event, lease, SUCCEEDED);
      return isPromiseLike(settling)
        ? settling.then(() => acceptedResult(outcome, event))
        : acceptedResult(outcome, event);
    }
    return awaitHandlers(event, lease, running, outcome);
  };

  /** Handlers that returned a promise: the deadline, lease renewal, then settle and answer. */
  const awaitHandlers = async (
    event: VerifiedKallimaEvent,
    lease: IdempotencyLease | undefined,
    running: Promise<void>,
    outcome: "handled" | "unhandled",
  ): Promise<WebhookResult> => {
    const stopRenewing = lease && store ? keepLeaseAlive(store, lease, event, report) : undefined;
    let timedOut = false;
    const finished = running
      .then(
        (): Settled => ({ ok: true }),
        (cause: unknown): Settled => ({ ok: false, cause }),
      )
      .then(async (settled) => {
        stopRenewing?.();
        await settle(event, lease, settled);
        if (timedOut && !settled.ok) {
          // Answered 503 already; the retry will run it again. Still tell the operator why.
          report(new HandlerFailedError(event.type, settled.cause), { status: 503, event });
        }
        return settled;
      });

    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<"deadline">((resolve) => {
      timer = setTimeout(() => resolve("deadline"), deadlineMs);
      (timer as { unref?: () => void }).unref?.();
    });
    const first = await Promise.race([finished, deadline]);
    if (first !== "deadline") {
      clearTimeout(timer);
      return answer(event, first, outcome);
    }
    timedOut = true;
    return fail(
      errorResult(new HandlerTimeoutError(event.type, deadlineMs), "handler_timeout", event),
    );
  };

  return (event, context, observation) => {
    const registered = registry.get(event.type);
    const handlers = registered ?? unhandled;
    if (!handlers) return acceptedResult("unhandled", event);
    // onUnhandled ran: the event is still one this receiver has no handler for.
    const outcome = registered ? "handled" : "unhandled";
    const claiming = claim(event, observation);
    return isPromiseLike(claiming)
      ? claiming.then((claimedEvent) =>
          run(event, context, observation, handlers, outcome, claimedEvent),
        )
      : run(event, context, observation, handlers, outcome, claiming);
  };
}
