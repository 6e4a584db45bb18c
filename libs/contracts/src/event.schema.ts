// The v1 vehicle event of SPEC §3 (alarms, DTC changes, state changes, incidents): type, validator and JSON Schema.
// Strict like telemetry: unknown properties are rejected (SCHEMA); free-form values go in `data`.
import Type, { type Static } from 'typebox';
import { Seq, SignalMap, Timestamp, Version } from './common.schema.js';
import { DTC_PATTERN } from './telemetry.schema.js';

export const EVENT_KINDS = ['alarm', 'dtc', 'state', 'incident'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** Upper-case event code, e.g. BATTERY_HIGH_TEMP. */
export const EVENT_CODE_PATTERN = '^[A-Z][A-Z0-9_]{0,63}$';
// A `dtc` event names its trouble code, and J1939 codes contain '-' (SPN520-FMI3), so `code` also accepts the DTC
// form. Both alternatives are anchored and bounded, each a single pass: linear-time matching.
const CODE_PATTERN = `^(?:[A-Z][A-Z0-9_]{0,63}|${DTC_PATTERN.slice(1, -1)})$`;

/** GB/T 32960 general alarm flags, with the names SPEC §3 gives them. */
export const GBT32960_ALARM_CODES = [
  'TEMP_DIFF',
  'BATTERY_HIGH_TEMP',
  'PACK_OVERVOLTAGE',
  'PACK_UNDERVOLTAGE',
  'SOC_LOW',
  'CELL_OVERVOLTAGE',
  'CELL_UNDERVOLTAGE',
  'SOC_HIGH',
  'SOC_JUMP',
  'PACK_MISMATCH',
  'CELL_INCONSISTENCY',
  'INSULATION',
  'DCDC_TEMP',
  'BRAKE',
  'DCDC_STATUS',
  'MOTOR_CONTROLLER_TEMP',
  'HV_INTERLOCK',
  'MOTOR_TEMP',
  'OVERCHARGE',
  'THERMAL_EVENT',
] as const;

/** Special-vehicle alarms (hydrogen, upper body, tankers) of SPEC §3. */
export const SPECIAL_VEHICLE_ALARM_CODES = ['H2_LEAK', 'H2_PRESSURE', 'BODY_FAULT', 'TANK_PRESSURE', 'TANK_TEMP', 'ROLLOVER_RISK'] as const;

/** Alarm codes the platform knows; other upper-case codes are accepted too (SPEC §3), just not named here. */
export const KNOWN_ALARM_CODES = [...GBT32960_ALARM_CODES, ...SPECIAL_VEHICLE_ALARM_CODES] as const;
export type KnownAlarmCode = (typeof KNOWN_ALARM_CODES)[number];

const knownAlarmCodes: ReadonlySet<string> = new Set(KNOWN_ALARM_CODES);
export function isKnownAlarmCode(code: string): code is KnownAlarmCode {
  return knownAlarmCodes.has(code);
}

/** GB/T 32960 alarm level: 1 = no effect on driving, 2 = degraded, 3 = stop now. */
export const ALARM_LEVELS = [1, 2, 3] as const;
export type AlarmLevel = (typeof ALARM_LEVELS)[number];

export const MAX_EVENT_MESSAGE_LENGTH = 512;

export const VehicleEventSchema = Type.Object(
  {
    v: Type.Optional(Version),
    ts: Timestamp,
    seq: Seq,
    kind: Type.Enum(EVENT_KINDS, { description: 'alarm | dtc | state | incident' }),
    code: Type.String({ pattern: CODE_PATTERN, description: 'upper-case code (BATTERY_HIGH_TEMP) or a DTC (SPN520-FMI3)' }),
    level: Type.Optional(Type.Integer({ minimum: 1, maximum: 3, description: 'GB/T 32960 level: 1 none, 2 degraded, 3 stop now' })),
    active: Type.Optional(Type.Boolean({ description: 'true when raised, false when cleared' })),
    message: Type.Optional(Type.String({ maxLength: MAX_EVENT_MESSAGE_LENGTH, description: 'human-readable text' })),
    data: Type.Optional(SignalMap('event values: number | string | boolean, ≤ 64 keys')),
  },
  { additionalProperties: false, $id: 'VehicleEventV1', title: 'Vehicle event v1', description: 'SPEC §3 event' },
);

export type VehicleEvent = Static<typeof VehicleEventSchema>;

/** JSON Schema of a single event, for OpenAPI. */
export const vehicleEventJsonSchema: Readonly<Record<string, unknown>> = VehicleEventSchema as unknown as Record<string, unknown>;
