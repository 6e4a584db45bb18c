// energy_hourly: per vehicle and hour, the increase of every cumulative counter within the hour (increase between
// consecutive samples attributed to the hour of the later one; a counter reset contributes nothing, never a
// negative). The rollup behind GET /api/v1/energy; maintained by ingestion.
import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely';
import type { GeneratedTimestamp, Timestamp } from './column-types.js';

type Counter = ColumnType<number, number | undefined, number>; // double precision not null default 0

/** Each cumulative counter's increase over the row's period (energy_hourly, energy_10min). */
export interface EnergyIncreaseColumns {
  distance_km: Counter;
  traction_kwh: Counter;
  body_kwh: Counter;
  regen_kwh: Counter;
  charged_kwh: Counter;
  h2_kg: Counter;
  fuel_l: Counter;
  engine_hours: Counter;
  body_hours: Counter;
}

export interface EnergyHourlyTable extends EnergyIncreaseColumns {
  vehicle_id: string;
  /** Start of the hour (date_trunc('hour', ts)), UTC. */
  hour: Timestamp;
  /** Samples attributed to the hour. */
  samples: ColumnType<number, number | undefined, number>;
  updated_at: GeneratedTimestamp;
}

export type EnergyHourlyRow = Selectable<EnergyHourlyTable>;
export type NewEnergyHourlyRow = Insertable<EnergyHourlyTable>;
export type EnergyHourlyRowUpdate = Updateable<EnergyHourlyTable>;

/**
 * energy_10min: the same increases per vehicle and UTC 10-minute bucket (an hour row is the sum of its six bucket
 * rows), written by ingestion beside energy_hourly. Read by GET /api/v1/energy for the part of a partial hour between
 * the hour and the bucket boundary nearest to the range's end, from specfleet_meta.energy_10min_since on
 * (migration 2026_11_30_100000_energy_10min).
 */
export interface Energy10MinTable extends EnergyIncreaseColumns {
  vehicle_id: string;
  /** Start of the UTC 10-minute bucket. */
  bucket: Timestamp;
  /** Samples attributed to the bucket. */
  samples: ColumnType<number, number | undefined, number>;
  updated_at: GeneratedTimestamp;
}

export type Energy10MinRow = Selectable<Energy10MinTable>;
export type NewEnergy10MinRow = Insertable<Energy10MinTable>;
