// MQTT topic names of SPEC §3: vehicle-id rules, topic builders, the per-message topic parser and the service filters.
//
// parseTopic runs on every message the broker or ingestion sees, so it is a hand-written scan over char codes:
// no regex, no split, one slice for the vehicle id; cost is linear in the topic length and it never backtracks.

/** SPEC §3 vehicle id, as a JSON Schema / RegExp source (kept for schemas and docs; code uses isValidVehicleId). */
export const VEHICLE_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
export const VEHICLE_ID_REGEX = new RegExp(VEHICLE_ID_PATTERN);
export const VEHICLE_ID_MAX_LENGTH = 64;

export const TOPIC_ROOT = 'fleet';

export const TOPIC_CHANNELS = ['telemetry', 'events', 'status', 'cmd', 'cmd/ack'] as const;
export type TopicChannel = (typeof TOPIC_CHANNELS)[number];

export interface ParsedTopic {
  vehicleId: string;
  channel: TopicChannel;
}

/** Subscription filters of the service accounts (ingestion workers); vehicles never get these. */
export const TELEMETRY_FILTER = 'fleet/+/telemetry';
export const EVENTS_FILTER = 'fleet/+/events';
export const STATUS_FILTER = 'fleet/+/status';
export const COMMAND_ACK_FILTER = 'fleet/+/cmd/ack';
export const SERVICE_FILTERS = [TELEMETRY_FILTER, EVENTS_FILTER, STATUS_FILTER, COMMAND_ACK_FILTER] as const;

// A-Z a-z 0-9 are allowed everywhere; '_' '.' '-' only after the first character.
function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isIdTail(c: number): boolean {
  return isAlnum(c) || c === 95 /* _ */ || c === 46 /* . */ || c === 45 /* - */;
}

function isIdRange(s: string, start: number, end: number): boolean {
  const len = end - start;
  if (len < 1 || len > VEHICLE_ID_MAX_LENGTH) return false;
  if (!isAlnum(s.charCodeAt(start))) return false;
  for (let i = start + 1; i < end; i++) {
    if (!isIdTail(s.charCodeAt(i))) return false;
  }
  return true;
}

/** True when `id` matches VEHICLE_ID_PATTERN (so it can never contain '/', '+', '#' or control characters). */
export function isValidVehicleId(id: unknown): id is string {
  return typeof id === 'string' && isIdRange(id, 0, id.length);
}

function assertVehicleId(vehicleId: string): void {
  // Building a topic from an unchecked id could address another vehicle ("a/../b", "+"): refuse loudly.
  if (!isValidVehicleId(vehicleId)) throw new RangeError(`invalid vehicle id: ${JSON.stringify(String(vehicleId)).slice(0, 80)}`);
}

export function telemetryTopic(vehicleId: string): string {
  assertVehicleId(vehicleId);
  return `fleet/${vehicleId}/telemetry`;
}

export function eventsTopic(vehicleId: string): string {
  assertVehicleId(vehicleId);
  return `fleet/${vehicleId}/events`;
}

export function statusTopic(vehicleId: string): string {
  assertVehicleId(vehicleId);
  return `fleet/${vehicleId}/status`;
}

export function commandTopic(vehicleId: string): string {
  assertVehicleId(vehicleId);
  return `fleet/${vehicleId}/cmd`;
}

export function commandAckTopic(vehicleId: string): string {
  assertVehicleId(vehicleId);
  return `fleet/${vehicleId}/cmd/ack`;
}

const PREFIX = 'fleet/';
const PREFIX_LEN = PREFIX.length;

/**
 * Splits `fleet/{vid}/{channel}` into its parts; undefined for anything else (other roots, extra or empty levels,
 * wildcards, invalid ids, unknown channels). Wildcards and control characters fail the vehicle-id check.
 */
export function parseTopic(topic: string): ParsedTopic | undefined {
  if (typeof topic !== 'string' || !topic.startsWith(PREFIX)) return undefined;
  // The id ends at the next '/', which must come within 64 characters (bounded scan, even for huge topics).
  const limit = Math.min(topic.length, PREFIX_LEN + VEHICLE_ID_MAX_LENGTH + 1);
  let slash = -1;
  for (let i = PREFIX_LEN; i < limit; i++) {
    if (topic.charCodeAt(i) === 47 /* / */) {
      slash = i;
      break;
    }
  }
  if (slash < 0 || !isIdRange(topic, PREFIX_LEN, slash)) return undefined;
  const restLen = topic.length - slash - 1;
  let channel: TopicChannel;
  // Compare the suffix in place (endsWith + length) instead of slicing it out.
  if (restLen === 9 && topic.endsWith('telemetry')) channel = 'telemetry';
  else if (restLen === 6 && topic.endsWith('events')) channel = 'events';
  else if (restLen === 6 && topic.endsWith('status')) channel = 'status';
  else if (restLen === 3 && topic.endsWith('cmd')) channel = 'cmd';
  else if (restLen === 7 && topic.endsWith('cmd/ack')) channel = 'cmd/ack';
  else return undefined;
  return { vehicleId: topic.slice(PREFIX_LEN, slash), channel };
}

/** Builds a topic for a parsed (vehicle, channel) pair; the inverse of parseTopic. */
export function buildTopic(vehicleId: string, channel: TopicChannel): string {
  assertVehicleId(vehicleId);
  return `fleet/${vehicleId}/${channel}`;
}

/**
 * MQTT 5 / Mosquitto 2 / EMQX shared subscription: `$share/{group}/{filter}`. The group is one topic level without
 * wildcards; the filter must not itself be shared.
 */
export function sharedSubscription(group: string, filter: string): string {
  if (typeof group !== 'string' || group.length === 0 || /[/+#\u0000-\u001f\u007f]/.test(group)) {
    throw new RangeError(`invalid shared-subscription group: ${JSON.stringify(String(group)).slice(0, 80)}`);
  }
  if (typeof filter !== 'string' || filter.length === 0 || filter.startsWith('$share/')) {
    throw new RangeError(`invalid topic filter: ${JSON.stringify(String(filter)).slice(0, 80)}`);
  }
  return `$share/${group}/${filter}`;
}
