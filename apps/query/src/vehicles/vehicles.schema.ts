// Request and answer schemas of the vehicle routes (registry, provisioning, telemetry, events).
import Type, { type Static } from 'typebox';
import { BODY_TYPES, POWERTRAINS, VEHICLE_ID_PATTERN } from '@fleet/db';
import { SERIES_SIGNALS } from '@fleet/db';
import { ERROR_CODE_KEYWORD } from '../common/endpoint.js';
import { BooleanParam, CursorParam, Iso, LimitParam, Nullable, NullableIso, NullableNumber, Page, TimeParam } from '../common/schemas.js';

export const PowertrainSchema = Type.Enum([...POWERTRAINS], { description: 'bev | fcev | ice | phev' });
export const BodyTypeSchema = Type.Enum([...BODY_TYPES], { description: 'upper body type' });
export const ConnectivitySchema = Type.Enum(['online', 'stale', 'offline'], {
  description: 'online: connected and a sample within 3 × report_interval_s; stale: connected but silent; offline: disconnected or silent longer than the offline threshold',
});
export const VehicleStateValue = Type.Enum(['off', 'idle', 'driving', 'working', 'charging', 'refuelling']);

export const CreateVehicleBody = Type.Object(
  {
    id: Type.String({ pattern: VEHICLE_ID_PATTERN, description: 'vehicle id = MQTT username = client id, e.g. a VIN or SZ-SAN-0001' }),
    type: Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$', description: 'vehicle class, e.g. road_sweeper, garbage_compactor, fire_engine' }),
    body_type: BodyTypeSchema,
    powertrain: PowertrainSchema,
    vin: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    battery_kwh: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10_000 })),
    h2_capacity_kg: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1_000 })),
    fuel_capacity_l: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10_000 })),
    report_interval_s: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400, description: 'expected seconds between samples (default 10)' })),
  },
  { additionalProperties: false },
);
export type CreateVehicleBody = Static<typeof CreateVehicleBody>;

export const SnapshotSchema = Type.Object({
  connectivity: ConnectivitySchema,
  connected: Type.Boolean(),
  last_seen: Nullable(Iso),
  last_ts: NullableIso,
  last_seq: NullableNumber,
  fw: Nullable(Type.String()),
  state: Nullable(Type.String()),
  position: Nullable(Type.Object({ lat: Type.Number(), lon: Type.Number(), speed_kmh: NullableNumber, heading_deg: NullableNumber })),
  odometer_km: NullableNumber,
  battery: Type.Object({ soc_pct: NullableNumber, temp_max_c: NullableNumber, temp_min_c: NullableNumber, cell_v_max: NullableNumber, cell_v_min: NullableNumber, soh_pct: NullableNumber }),
  h2_mass_kg: NullableNumber,
  fuel_level_pct: NullableNumber,
  body: Type.Object({ active: Nullable(Type.Boolean()), power_kw: NullableNumber }),
  active_alarms: Type.Record(Type.String(), Type.Object({ level: Type.Integer(), since: Nullable(Type.String()), message: Nullable(Type.String()) })),
  alarm_max_level: Type.Integer(),
  active_dtcs: Type.Array(Type.String()),
});

export const VehicleSchema = Type.Object({
  id: Type.String(),
  type: Type.String(),
  body_type: Type.String(),
  powertrain: Type.String(),
  vin: Nullable(Type.String()),
  model: Nullable(Type.String()),
  battery_kwh: NullableNumber,
  h2_capacity_kg: NullableNumber,
  fuel_capacity_l: NullableNumber,
  report_interval_s: Type.Integer(),
  credentials_rotated_at: NullableIso,
  created_at: Iso,
  snapshot: SnapshotSchema,
});

export const MqttCredentialsSchema = Type.Object(
  {
    host: Type.String(),
    port: Type.Integer(),
    username: Type.String(),
    password: Type.String({ description: 'shown only in this answer; only its SHA-256 digest is stored' }),
    client_id: Type.String(),
  },
  { description: 'MQTT login of the vehicle' },
);

export const ProvisionedVehicleSchema = Type.Object({
  vehicle: Type.Omit(VehicleSchema, ['snapshot']),
  mqtt: MqttCredentialsSchema,
});

export const RotatedCredentialsSchema = Type.Object({ vehicle_id: Type.String(), credentials_rotated_at: Iso, mqtt: MqttCredentialsSchema });

export const ListVehiclesQuery = Type.Object(
  {
    type: Type.Optional(Type.String({ maxLength: 64 })),
    body_type: Type.Optional(BodyTypeSchema),
    powertrain: Type.Optional(PowertrainSchema),
    limit: Type.Optional(LimitParam),
    cursor: Type.Optional(CursorParam),
  },
  { additionalProperties: false },
);
export type ListVehiclesQuery = Static<typeof ListVehiclesQuery>;

export const VehicleListSchema = Page(VehicleSchema);

export const TelemetryQuery = Type.Object(
  {
    from: Type.Optional(TimeParam('start (inclusive); default to − 1 h')),
    to: Type.Optional(TimeParam('end (exclusive); default now')),
    bucket: Type.Optional(Type.String({ maxLength: 12, description: 'bucket width such as 30s, 5m, 1h, 1d: answers avg/min/max/last per bucket instead of raw samples', [ERROR_CODE_KEYWORD]: 'invalid_bucket' })),
    signals: Type.Optional(Type.String({ maxLength: 1000, description: `comma-separated signals of a bucketed series (default all): ${SERIES_SIGNALS.join(', ')}` })),
    limit: Type.Optional(LimitParam),
    cursor: Type.Optional(CursorParam),
  },
  { additionalProperties: false },
);
export type TelemetryQuery = Static<typeof TelemetryQuery>;

export const RawSampleSchema = Type.Record(Type.String(), Type.Unknown(), { description: 'a stored sample: ts, seq, received_at and the typed columns of SPEC §6 (null when absent)' });
const SeriesPointSchema = Type.Object({ avg: NullableNumber, min: NullableNumber, max: NullableNumber, last: NullableNumber });
export const TelemetryAnswerSchema = Type.Object({
  vehicle_id: Type.String(),
  from: Iso,
  to: Iso,
  bucket: Nullable(Type.String()),
  items: Type.Array(
    Type.Union([RawSampleSchema, Type.Object({ bucket: Iso, samples: Type.Integer(), signals: Type.Record(Type.String(), SeriesPointSchema) })]),
  ),
  next_cursor: Nullable(Type.String()),
});

export const EventsQuery = Type.Object(
  {
    from: Type.Optional(TimeParam('start (inclusive); default to − 24 h')),
    to: Type.Optional(TimeParam('end (exclusive); default now')),
    kind: Type.Optional(Type.Enum(['alarm', 'dtc', 'state', 'incident'])),
    active: Type.Optional(BooleanParam('only events that raise (true) or clear (false) a condition')),
    limit: Type.Optional(LimitParam),
    cursor: Type.Optional(CursorParam),
  },
  { additionalProperties: false },
);
export type EventsQuery = Static<typeof EventsQuery>;

export const EventSchema = Type.Object({
  vehicle_id: Type.String(),
  ts: Iso,
  seq: Type.Integer(),
  received_at: Iso,
  kind: Type.String(),
  code: Nullable(Type.String()),
  level: Nullable(Type.Integer()),
  active: Nullable(Type.Boolean()),
  message: Nullable(Type.String()),
  data: Nullable(Type.Record(Type.String(), Type.Unknown())),
});
export const EventPageSchema = Page(EventSchema);
