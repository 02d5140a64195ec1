export { type ApiListenerOptions, createApiListener } from "./api.js";
export { RESPONSE_BODY_LIMIT, STALE_AGE_SECONDS } from "./attempt.js";
export { buildEvent, type EventSpec, FIXTURE_EVENT_TYPES, setPath } from "./events.js";
export {
  type AttemptListener,
  type AttemptReport,
  LocalKallima,
  type LocalKallimaOptions,
  type TriggerFaults,
  type TriggerInput,
  type TriggerResult,
  type WebhookInput,
} from "./local-kallima.js";
export { ApiProblem, type ApiProblemCode } from "./problem.js";
export {
  compressSchedule,
  DELIVERY_TIMEOUT_MS,
  REALISTIC_RETRY_DELAYS_MS,
} from "./schedule.js";
export {
  DEFAULT_DEV_PORT,
  type DevServer,
  type DevServerOptions,
  startDevServer,
} from "./server.js";
export { StateFileError } from "./store.js";
export type {
  DeliveryAttempt,
  DeliveryFault,
  EventObject,
  ProblemDocument,
  SignatureFormat,
  WebhookDeliveryObject,
  WebhookObject,
  WebhookObjectWithSecret,
} from "./wire.js";
