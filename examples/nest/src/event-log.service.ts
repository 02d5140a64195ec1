import { Injectable } from "@nestjs/common";

/** An event whose handler ran, as `GET /kallima-events` lists it. */
export interface RecordedEvent {
  id: string;
  type: string;
}

/** A demo aid, not for production: which events had their handler run, per route, in order. */
@Injectable()
export class EventLog {
  readonly module: RecordedEvent[] = [];
  readonly guarded: RecordedEvent[] = [];

  record(list: RecordedEvent[], event: RecordedEvent): void {
    list.push({ id: event.id, type: event.type });
  }
}
