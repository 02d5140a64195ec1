import {
  getFailureReason,
  type KallimaEvent,
  type NestWebhookContext,
  OnKallimaEvent,
} from "@kallima/webhooks-nest";
import { Injectable } from "@nestjs/common";
// biome-ignore lint/style/useImportType: Nest injects EventLog by the class that decorator metadata names at run time.
import { EventLog } from "./event-log.service";

/**
 * Decorated handlers: the module's route (`POST /kallima-events`) runs them once per event id,
 * and answers 500 (so Kallima retries) if one throws.
 */
@Injectable()
export class JobsService {
  // Injected by type, from the design-type metadata the compiler emits.
  constructor(private readonly log: EventLog) {}

  @OnKallimaEvent("job.completed")
  async onCompleted(
    event: KallimaEvent<"job.completed">,
    { request }: NestWebhookContext,
  ): Promise<void> {
    // The second argument: the platform's request (here Express's), and the route's context.
    console.log(`job ${event.data.id} completed (${request.method} ${request.url})`);
    this.log.record(this.log.module, event);
  }

  @OnKallimaEvent("job.failed")
  async onFailed(event: KallimaEvent<"job.failed">): Promise<void> {
    console.log(`job ${event.data.id} failed: ${getFailureReason(event.data).message}`);
    this.log.record(this.log.module, event);
  }
}

/** Handlers can live on any provider; several for one type all run. */
@Injectable()
export class WebhookTestService {
  constructor(private readonly log: EventLog) {}

  @OnKallimaEvent("webhook.test")
  onTest(event: KallimaEvent<"webhook.test">): void {
    console.log(`test delivery for webhook ${event.data.webhook_id}`);
    this.log.record(this.log.module, event);
  }
}
