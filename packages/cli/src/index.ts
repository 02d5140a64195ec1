export { type CliIO, EXIT, runCli } from "./cli.js";
export {
  type BuildEventOptions,
  buildEvent,
  type CreateDeliveryOptions,
  createDelivery,
  type Delivery,
  type DeliveryDefect,
  type DeliveryResponse,
  EXPECTED_CODE_OF_DEFECT,
  FIXTURE_EVENT_TYPES,
  isExpectedStatus,
  type OutgoingEvent,
  type SendDeliveryOptions,
  type SendEventOptions,
  type SendReport,
  type SentDelivery,
  STALE_AGE_SECONDS,
  sendDelivery,
  sendEvent,
} from "./deliveries.js";
export { CliError, type CliErrorCode } from "./errors.js";
export {
  describeFormat,
  parseSignatureFormat,
  SIGNATURE_FORMATS,
  type SignatureFormat,
} from "./formats.js";
export {
  type BodySignature,
  curlCommand,
  inferSignatureFormat,
  type SignBodyOptions,
  type SignedHeaders,
  shellQuote,
  signBody,
  type VerifyBodyOptions,
  type VerifyBodyResult,
  verifyBody,
} from "./signing.js";
