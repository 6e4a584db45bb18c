// Request and answer schemas of /api/v1/fleet/status and /api/v1/fleet/health.
import Type, { type Static } from 'typebox';
import { CursorParam, Iso, LimitParam, Nullable, NullableIso, NullableNumber } from '../common/schemas.js';
import { BodyTypeSchema, ConnectivitySchema, PowertrainSchema, VehicleStateValue } from '../vehicles/vehicles.schema.js';

const Filters = {
  type: Type.Optional(Type.String({ maxLength: 64, description: 'vehicle class, e.g. road_sweeper' })),
  body_type: Type.Optional(BodyTypeSchema),
  powertrain: Type.Optional(PowertrainSchema),
};

export const FleetStatusQuery = Type.Object(
  { ...Filters, state: Type.Optional(VehicleStateValue), connectivity: Type.Optional(ConnectivitySchema), limit: Type.Optional(LimitParam), cursor: Type.Optional(CursorParam) },
  { additionalProperties: false },
);
export type FleetStatusQuery = Static<typeof FleetStatusQuery>;

const Counts = Type.Object({ online: Type.Integer(), stale: Type.Integer(), offline: Type.Integer() });

export const FleetStatusEntry = Type.Object({
  id: Type.String(),
  type: Type.String(),
  body_type: Type.String(),
  powertrain: Type.String(),
  connectivity: ConnectivitySchema,
  last_seen: NullableIso,
  state: Nullable(Type.String()),
  position: Nullable(Type.Object({ lat: Type.Number(), lon: Type.Number(), heading_deg: NullableNumber })),
  speed_kmh: NullableNumber,
  energy: Type.Object({ soc_pct: NullableNumber, h2_kg: NullableNumber, h2_pct: NullableNumber, fuel_pct: NullableNumber }),
  alarm_max_level: Type.Integer(),
  active_dtc_count: Type.Integer(),
});

export const FleetStatusAnswer = Type.Object({
  generated_at: Iso,
  counts: Type.Object({ total: Type.Integer(), connectivity: Counts }),
  items: Type.Array(FleetStatusEntry),
  next_cursor: Nullable(Type.String()),
});

export const FleetHealthQuery = Type.Object(
  {
    ...Filters,
    grade: Type.Optional(Type.Enum(['ok', 'warn', 'critical'], { description: 'only vehicles with this grade in items' })),
    limit: Type.Optional(LimitParam),
    cursor: Type.Optional(CursorParam),
  },
  { additionalProperties: false },
);
export type FleetHealthQuery = Static<typeof FleetHealthQuery>;

const Reason = Type.Object({
  rule: Type.String({ description: 'battery_hot | cell_imbalance | low_soh | low_energy | active_alarm | active_dtc | offline_too_long' }),
  severity: Type.Enum(['warn', 'critical']),
  message: Type.String(),
  value: Type.Union([Type.Number(), Type.String(), Type.Null()]),
  threshold: NullableNumber,
});
const VehicleReasons = Type.Object({ vehicle_id: Type.String(), grade: Type.Enum(['ok', 'warn', 'critical']), reasons: Type.Array(Reason) });

export const FleetHealthAnswer = Type.Object({
  generated_at: Iso,
  vehicles: Type.Integer(),
  connectivity: Counts,
  grades: Type.Object({ ok: Type.Integer(), warn: Type.Integer(), critical: Type.Integer() }),
  alarms: Type.Object({
    by_level: Type.Record(Type.String(), Type.Integer(), { description: 'active alarms per GB/T 32960 level' }),
    by_code: Type.Array(Type.Object({ code: Type.String(), max_level: Type.Integer(), vehicles: Type.Integer() })),
  }),
  top_dtcs: Type.Array(Type.Object({ code: Type.String(), vehicles: Type.Integer() })),
  battery_warnings: Type.Array(VehicleReasons),
  low_energy: Type.Array(VehicleReasons),
  offline_too_long: Type.Array(Type.Object({ vehicle_id: Type.String(), last_seen: NullableIso, grade: Type.Enum(['warn', 'critical']), message: Type.String() })),
  items: Type.Array(
    Type.Object({ vehicle_id: Type.String(), type: Type.String(), powertrain: Type.String(), connectivity: ConnectivitySchema, grade: Type.Enum(['ok', 'warn', 'critical']), reasons: Type.Array(Reason) }),
  ),
  next_cursor: Nullable(Type.String()),
});
