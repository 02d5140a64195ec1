import { Controller, Get } from "@nestjs/common";
// biome-ignore lint/style/useImportType: Nest injects EventLog by the class that decorator metadata names at run time.
import { EventLog, type RecordedEvent } from "./event-log.service";

/** `GET /kallima-events`: the events whose handler ran on the module's route (a demo aid). */
@Controller("kallima-events")
export class EventsController {
  constructor(private readonly log: EventLog) {}

  @Get()
  list(): { events: RecordedEvent[] } {
    return { events: this.log.module };
  }
}
