import {
  isEventType,
  KallimaEvent,
  KallimaWebhookGuard,
  type VerifiedKallimaEvent,
} from "@kallima/webhooks-nest";
import { Controller, Get, HttpCode, Post, UseGuards } from "@nestjs/common";
// biome-ignore lint/style/useImportType: Nest injects EventLog by the class that decorator metadata names at run time.
import { EventLog, type RecordedEvent } from "./event-log.service";

/**
 * The guard style: your own route, verified by `KallimaWebhookGuard`, with the typed event from
 * `@KallimaEvent()`. The guard only verifies; deduplicating is up to this route.
 */
@Controller("kallima-events/guarded")
export class GuardedController {
  constructor(private readonly log: EventLog) {}

  @Post()
  @HttpCode(200)
  @UseGuards(KallimaWebhookGuard)
  receive(@KallimaEvent() event: VerifiedKallimaEvent): { received: true } {
    if (
      isEventType(event, "job.completed") ||
      isEventType(event, "job.failed") ||
      isEventType(event, "webhook.test")
    ) {
      console.log(`guarded route: ${event.type} ${event.id}`);
      this.log.record(this.log.guarded, event);
    }
    return { received: true };
  }

  @Get()
  list(): { events: RecordedEvent[] } {
    return { events: this.log.guarded };
  }
}
