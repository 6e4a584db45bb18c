// energy_daily: energy_hourly summed per vehicle and UTC day, kept equal to it by triggers on energy_hourly
// (migration 2026_11_27_100000_energy_daily). Read by GET /api/v1/energy for the whole days of a range; never written
// by the app.
import type { ColumnType, Selectable } from 'kysely';
import type { Timestamp } from './column-types.js';

type Sum = ColumnType<number, number | undefined, number>; // double precision not null default 0

export interface EnergyDailyTable {
  vehicle_id: string;
  /** Start of the UTC day. */
  day: Timestamp;
  distance_km: Sum;
  traction_kwh: Sum;
  body_kwh: Sum;
  regen_kwh: Sum;
  charged_kwh: Sum;
  h2_kg: Sum;
  fuel_l: Sum;
  engine_hours: Sum;
  body_hours: Sum;
  /** Samples attributed to the day's hours. */
  samples: ColumnType<number, number | undefined, number>;
  /** energy_hourly rows of the day; a day with none is no day of the report. */
  hours: ColumnType<number, number | undefined, number>;
}

export type EnergyDailyRow = Selectable<EnergyDailyTable>;
