// energy_daily: energy_hourly summed per vehicle and UTC day over the hours before energy_daily_watermark.hour, kept
// so by triggers on energy_hourly (migrations 2026_11_27_100000_energy_daily, 2026_11_27_140000_energy_daily_watermark)
// and by the rollup that moves the watermark (EnergyDailyRepository.advanceWatermark). Read by GET /api/v1/energy for
// the whole days of a range, with the energy_hourly rows at or after the watermark.
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

/** One row: energy_daily holds exactly the energy_hourly rows with hour < this. */
export interface EnergyDailyWatermarkTable {
  only_row: ColumnType<boolean, boolean | undefined, never>;
  /** Start of a UTC hour. */
  hour: Timestamp;
}

/**
 * energy_monthly: energy_daily summed per vehicle and UTC month, kept so by triggers on energy_daily (migration
 * 2026_11_29_100000_energy_monthly); so it holds the energy_hourly rows before the watermark too. Read by
 * GET /api/v1/energy for the whole months of a range, with the energy_hourly rows at or after the watermark.
 */
export interface EnergyMonthlyTable extends Omit<EnergyDailyTable, 'day' | 'hours'> {
  /** Start of the UTC month. */
  month: Timestamp;
  /** energy_hourly rows of the month (before the watermark); a month with none is no month of the report. */
  hours: ColumnType<number, number | undefined, number>;
}
