import type { WebhookLogDetails, WebhookLogger } from "@kallima/webhooks";
import { Logger } from "@nestjs/common";

/** The core's log lines, written with Nest's `Logger` (so to whatever logger the app set). */
export function nestWebhookLogger(logger: Logger = new Logger("KallimaWebhooks")): WebhookLogger {
  // The core's line already names the event; Nest's error() takes the stack apart.
  return {
    error(message: string, details: WebhookLogDetails) {
      const stack = details.cause instanceof Error ? details.cause.stack : undefined;
      if (stack === undefined) logger.error(message);
      else logger.error(message, stack);
    },
    warn: (message: string) => logger.warn(message),
  };
}

/** The handler options with Nest's `Logger` as the default `logger` (`false` still silences). */
export function withNestLogger<TOptions extends { logger?: unknown }>(options: TOptions): TOptions {
  // Anything but an options object goes on as is, for the core to refuse.
  if (typeof options !== "object" || options === null || options.logger !== undefined)
    return options;
  return { ...options, logger: nestWebhookLogger() };
}
