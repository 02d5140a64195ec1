export {
  createEvent,
  createEventId,
  type EventOverrides,
  humanizationCompletedEvent,
  humanizationFailedEvent,
  jobCompletedEvent,
  jobFailedEvent,
  structurePredictionCompletedEvent,
  structurePredictionFailedEvent,
  webhookTestEvent,
} from "./testing/events.js";
export {
  createSignedRequest,
  type SignedHeaders,
  type SignedPayload,
  type SignedRequestOptions,
  type SignPayloadOptions,
  signatureHeaders,
  signPayload,
} from "./testing/sign.js";
