export {
  createEvent,
  createEventId,
  type EventOverrides,
  jobCompletedEvent,
  jobFailedEvent,
  webhookTestEvent,
} from "./testing/events.js";
export {
  createSignedRequest,
  type SignedPayload,
  type SignedRequestOptions,
  type SignPayloadOptions,
  signPayload,
} from "./testing/sign.js";
