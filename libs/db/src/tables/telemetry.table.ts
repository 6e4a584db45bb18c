// telemetry: one row per accepted sample (SPEC §3 telemetry v1), a hypertable on TimescaleDB.
//
// Columns are ordered for storage, not for reading: 8-byte fixed-width columns first, then 4-byte, then bool,
// then the variable-length ones, so PostgreSQL never pads between them. Coordinates, odometer and the cumulative
// counters are double precision (a float4 has ~7 significant digits: 18234.5 kWh would lose the 0.1, and a
// latitude would lose metres); instantaneous readings (speed, temperatures, voltages, pressures, percentages)
// are real, which holds every value a sensor reports at half the size.
// No CHECK constraints and no foreign key here: one bad row would fail a whole batch insert; validation happens
// in @fleet/contracts before a row gets here.
import type { Insertable, Selectable } from 'kysely';
import type { GeneratedTimestamp, Int8, JsonbObject, TextArray, Timestamp } from './column-types.js';

export interface TelemetryTable {
  // -- 8-byte
  ts: Timestamp;
  /** Per-vehicle uint32 counter from the firmware (does not fit int4). */
  seq: Int8;
  received_at: GeneratedTimestamp;
  lat: number | null; // double precision
  lon: number | null;
  odometer_km: number | null;
  traction_kwh: number | null; // energy.* — cumulative counters since commissioning
  body_kwh: number | null;
  regen_kwh: number | null;
  charged_kwh: number | null;
  h2_used_kg: number | null;
  fuel_used_l: number | null;
  engine_hours: number | null;
  body_hours: number | null; // body.hours — cumulative
  // -- 4-byte (real)
  alt_m: number | null;
  heading_deg: number | null;
  speed_kmh: number | null;
  soc_pct: number | null; // battery.*
  battery_voltage_v: number | null;
  battery_current_a: number | null; // positive when discharging
  battery_temp_max_c: number | null;
  battery_temp_min_c: number | null;
  cell_v_max: number | null;
  cell_v_min: number | null;
  soh_pct: number | null;
  h2_mass_kg: number | null; // hydrogen.*
  h2_pressure_mpa: number | null;
  fc_power_kw: number | null;
  fc_temp_c: number | null;
  fuel_level_pct: number | null; // fuel.*
  fuel_rate_lph: number | null;
  engine_rpm: number | null;
  coolant_c: number | null;
  body_power_kw: number | null;
  // -- 1-byte
  body_active: boolean | null;
  // -- variable length
  vehicle_id: string;
  state: string | null; // off | idle | driving | working | charging | refuelling
  body_type: string | null;
  body_signals: JsonbObject | null;
  dtc: TextArray | null;
}

export type TelemetryRow = Selectable<TelemetryTable>;
export type NewTelemetryRow = Insertable<TelemetryTable>;
