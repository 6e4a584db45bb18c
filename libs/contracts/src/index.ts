// The MQTT contract of SPEC §3: topics, payload schemas, validation with stable rejection reasons.
export * from './topics.js';
export * from './common.schema.js';
export * from './telemetry.schema.js';
export * from './event.schema.js';
export * from './status.schema.js';
export { parseTimestamp, parseIsoTimestamp } from './timestamp.js';
export {
  REJECT_REASONS,
  DEFAULT_DECODE_LIMITS,
  isRejectReason,
  decodeTelemetry,
  decodeEvents,
  decodeStatus,
  unknownTopicRejection,
  escapeUnsafeText,
  type RejectReason,
  type Rejection,
  type DecodeContext,
  type DecodeResult,
  type AcceptedSample,
  type AcceptedEvent,
  type StatusDecodeResult,
} from './validation.js';
export { POWERTRAINS, type Powertrain, VEHICLE_TYPES, type VehicleType } from './fleet-vocabulary.js';
