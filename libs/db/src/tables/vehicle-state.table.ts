// vehicle_state: the latest snapshot per vehicle (one row each), so fleet status never scans telemetry.
import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely';
import type { GeneratedTimestamp, Int8, Timestamp } from './column-types.js';

/** One active alarm, keyed by its code in vehicle_state.active_alarms. */
export interface ActiveAlarm {
  level: number;
  /** ISO-8601 time the alarm became active. */
  since: string;
  message: string | null;
}
export type ActiveAlarms = { [code: string]: ActiveAlarm };

/**
 * When an alarm or DTC code last changed: the (ts epoch ms, seq) of the newest event applied to it, so a late event
 * never undoes a newer one, also within the same millisecond. A plain number (ts only) is what rows written before
 * seq was recorded hold; it reads as older than any event of that ts.
 */
export type AlarmChange = number | readonly [tsMs: number, seq: number];

export interface VehicleStateTable {
  vehicle_id: string;
  /** Denormalised from vehicles so a tenant's fleet status is one index scan. */
  tenant_id: string;
  last_ts: Timestamp | null;
  last_seq: Int8 | null;
  last_received_at: Timestamp | null;
  connected: ColumnType<boolean, boolean | undefined, boolean>; // default false
  connected_at: Timestamp | null;
  disconnected_at: Timestamp | null;
  fw: string | null;
  state: string | null;
  lat: number | null;
  lon: number | null;
  speed_kmh: number | null;
  heading_deg: number | null;
  odometer_km: number | null;
  soc_pct: number | null;
  h2_mass_kg: number | null;
  fuel_level_pct: number | null;
  battery_temp_max_c: number | null;
  battery_temp_min_c: number | null;
  cell_v_max: number | null;
  cell_v_min: number | null;
  soh_pct: number | null;
  body_active: boolean | null;
  body_power_kw: number | null;
  /** Cumulative counters of the latest sample (same names as in telemetry), to chain energy increases from. */
  traction_kwh: number | null;
  body_kwh: number | null;
  regen_kwh: number | null;
  charged_kwh: number | null;
  h2_used_kg: number | null;
  fuel_used_l: number | null;
  engine_hours: number | null;
  body_hours: number | null;
  /** The odometer of the newest stored sample exactly as stored (null when it had none): the distance chain's link. */
  last_odometer_km: number | null;
  /** code → { level, since, message }; default '{}'. */
  active_alarms: ColumnType<ActiveAlarms, ActiveAlarms | string | undefined, ActiveAlarms | string>;
  /** max level over active_alarms (0 = none); kept in step by the writer so it can be filtered/indexed. */
  alarm_max_level: ColumnType<number, number | undefined, number>;
  active_dtcs: ColumnType<string[], string[] | undefined, string[]>;
  /** When active_alarms / active_dtcs last changed. */
  alarms_changed_at: Timestamp | null;
  /** ts of the newest sample whose `dtc` list was applied: dtc events older than it are already accounted for. */
  dtcs_at: Timestamp | null;
  /** 'alarm:CODE' | 'dtc:CODE' → (ts, seq) of the newest event applied (AlarmChange), so a late event never undoes a newer one. */
  alarm_changed: ColumnType<Record<string, AlarmChange>, Record<string, AlarmChange> | string | undefined, Record<string, AlarmChange> | string>;
  updated_at: GeneratedTimestamp;
}

export type VehicleStateRow = Selectable<VehicleStateTable>;
export type NewVehicleStateRow = Insertable<VehicleStateTable>;
export type VehicleStateRowUpdate = Updateable<VehicleStateTable>;
