import { WebhookConfigError } from "./errors.js";
import {
  buildWebhookHandler,
  type HandlerBuildSettings,
  isWebhookHandler,
  type WebhookHandler,
  type WebhookHandlerOptions,
} from "./handler.js";

/** Options that only make sense when handlers run: refused in verify-only mode. */
const HANDLER_ONLY_OPTIONS = ["on", "onUnhandled", "idempotency", "deadlineMs"] as const;

/**
 * Options of verify-only mode, one type for every adapter: the handler options without the ones
 * that run handlers. The route that gets the event handles it, and deduplicates by `event.id`.
 */
export type VerifyOnlyOptions<TContext = unknown> = Omit<
  WebhookHandlerOptions<TContext>,
  (typeof HANDLER_ONLY_OPTIONS)[number]
>;

/**
 * The verify-only rule, in one place: handler options are refused with a clear error, and the
 * handler made verifies without deduplicating. Adapters' verify-only helpers call it.
 *
 * @example
 * ```ts
 * const handler = createVerifyOnlyHandler(options, { adapterName: "verifyKallimaWebhook" });
 * const outcome = await handler.verify({ headers, rawBody });
 * ```
 */
export function createVerifyOnlyHandler<TContext = unknown>(
  options: VerifyOnlyOptions<TContext> | WebhookHandler<TContext>,
  settings: HandlerBuildSettings & { adapterName?: string } = {},
): WebhookHandler<TContext> {
  if (isWebhookHandler<TContext>(options)) return options;
  if (typeof options === "object" && options !== null) {
    const given = HANDLER_ONLY_OPTIONS.filter(
      (name) => (options as Record<string, unknown>)[name] !== undefined,
    );
    if (given.length > 0) {
      const name = settings.adapterName ?? "verify-only mode";
      throw new WebhookConfigError(
        "invalid_option",
        `${name} only verifies: it never runs handlers or deduplicates, so ${given
          .map((option) => `\`${option}\``)
          .join(
            ", ",
          )} would do nothing. Handle the event in your route (dedupe by event.id), or use the terminal helper (kallimaWebhooks) instead.`,
      );
    }
  }
  return buildWebhookHandler(
    { ...(options as WebhookHandlerOptions<TContext>), idempotency: false },
    settings,
  );
}
