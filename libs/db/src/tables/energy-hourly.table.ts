// energy_hourly: per vehicle and hour, the increase of every cumulative counter within the hour (increase between
// consecutive samples attributed to the hour of the later one; a counter reset contributes nothing, never a
// negative). The rollup behind GET /api/v1/energy; maintained by ingestion.
import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely';
import type { GeneratedTimestamp, Timestamp } from './column-types.js';

type Counter = ColumnType<number, number | undefined, number>; // double precision not null default 0

export interface EnergyHourlyTable {
  vehicle_id: string;
  /** Start of the hour (date_trunc('hour', ts)), UTC. */
  hour: Timestamp;
  distance_km: Counter;
  traction_kwh: Counter;
  body_kwh: Counter;
  regen_kwh: Counter;
  charged_kwh: Counter;
  h2_kg: Counter;
  fuel_l: Counter;
  engine_hours: Counter;
  body_hours: Counter;
  /** Samples attributed to the hour. */
  samples: ColumnType<number, number | undefined, number>;
  updated_at: GeneratedTimestamp;
}

export type EnergyHourlyRow = Selectable<EnergyHourlyTable>;
export type NewEnergyHourlyRow = Insertable<EnergyHourlyTable>;
export type EnergyHourlyRowUpdate = Updateable<EnergyHourlyTable>;
