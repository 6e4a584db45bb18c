// Ingestion's writes to energy_hourly and energy_10min: add the increases of in-order samples, or recompute whole
// (vehicle, hour) rows, and the 10-minute bucket rows of those hours, from the raw telemetry when late samples changed
// which sample precedes which. An hour row is the sum of its bucket rows (both come from the same increments).
// Hot path (once per batch): raw SQL over unnest arrays.
import { Inject, Injectable } from '@nestjs/common';
import { CompiledQuery, type Kysely } from 'kysely';
import { DATABASE, type DB } from '../database.js';
import { type BulkColumn, type StatementQueue, stagingTable } from './bulk.js';
import { compileBinaryCopy } from './copy-binary.js';

/** energy_hourly's increase columns and the telemetry counter each is computed from, in parameter order. */
export const ENERGY_HOURLY_COUNTERS = [
  ['distance_km', 'odometer_km'],
  ['traction_kwh', 'traction_kwh'],
  ['body_kwh', 'body_kwh'],
  ['regen_kwh', 'regen_kwh'],
  ['charged_kwh', 'charged_kwh'],
  ['h2_kg', 'h2_used_kg'],
  ['fuel_l', 'fuel_used_l'],
  ['engine_hours', 'engine_hours'],
  ['body_hours', 'body_hours'],
] as const;

export type EnergyHourlyColumn = (typeof ENERGY_HOURLY_COUNTERS)[number][0];

export interface EnergyIncrement extends Record<EnergyHourlyColumn, number> {
  vehicleId: string;
  /** Start of the UTC 10-minute bucket (energy_10min); its hour's energy_hourly row gets the same increase. */
  bucket: Date;
  /** Samples newly stored in the bucket. */
  samples: number;
}

/**
 * Plausibility limits per counter, in ENERGY_HOURLY_COUNTERS order: a step counts only if
 * 0 < step ≤ maxPerHour × elapsed hours + slack. Passed in by the caller, which owns the rule (and its reference
 * implementation), so the SQL and the reference cannot drift apart.
 */
export interface StepLimits {
  maxPerHour: readonly number[];
  slack: readonly number[];
}

export interface SampleKey {
  vehicleId: string;
  ts: Date;
  seq: number;
}

const COLS = ENERGY_HOURLY_COUNTERS.map(([c]) => c);

/** The increments of a batch, staged by binary COPY on the ingestion transaction's connection. */
const INCREMENT_COLUMNS = [
  { name: 'vehicleId', kind: 'text' },
  { name: 'bucket', kind: 'timestamptz' },
  { name: 'samples', kind: 'int8' },
  ...COLS.map((name) => ({ name, kind: 'float8' }) as const),
] as const satisfies ReadonlyArray<BulkColumn<keyof EnergyIncrement>>;
const INCREMENT_STAGE = stagingTable('specfleet_ingest_energy_stage', INCREMENT_COLUMNS);
const incrementCopy = compileBinaryCopy(INCREMENT_COLUMNS);

// One row per (vehicle, bucket), pre-aggregated by the caller (ON CONFLICT DO UPDATE cannot touch a row twice), sorted
// so concurrent batches lock the rows in the same order; the hour rows are their sums per hour.
const ADD_BUCKETS = `
  INSERT INTO energy_10min (vehicle_id, bucket, samples, ${COLS.join(', ')})
  SELECT vehicleId, bucket, samples::int4, ${COLS.join(', ')} FROM ${INCREMENT_STAGE.name}
  ORDER BY 1, 2
  ON CONFLICT (vehicle_id, bucket) DO UPDATE SET
    samples = energy_10min.samples + excluded.samples,
    ${COLS.map((c) => `${c} = energy_10min.${c} + excluded.${c}`).join(',\n    ')},
    updated_at = now()`;

const HOUR = (expr: string): string => `date_trunc('hour', ${expr}, 'UTC')`;
const BUCKET = (expr: string): string => `date_bin('10 minutes', ${expr}, TIMESTAMPTZ '2000-01-01 00:00:00+00')`;

const ADD = `
  INSERT INTO energy_hourly (vehicle_id, hour, samples, ${COLS.join(', ')})
  SELECT vehicleId, ${HOUR('bucket')}, sum(samples)::int4, ${COLS.map((c) => `sum(${c})`).join(', ')} FROM ${INCREMENT_STAGE.name}
  GROUP BY 1, 2
  ORDER BY 1, 2
  ON CONFLICT (vehicle_id, hour) DO UPDATE SET
    samples = energy_hourly.samples + excluded.samples,
    ${COLS.map((c) => `${c} = energy_hourly.${c} + excluded.${c}`).join(',\n    ')},
    updated_at = now()`;

const COUNTER_LIST = ENERGY_HOURLY_COUNTERS.map(([, t]) => `t.${t}`).join(', ');

// The hours to recompute: the hour of each key, and the hour of the first stored sample after it (whose
// predecessor may have changed). Then per hour: the rows of the hour plus the last row before it, each row's step
// from its predecessor (ordered by ts, seq), the sum of the plausible positive steps of the rows in each 10-minute
// bucket of the hour (every bucket that holds samples: a bucket never loses its samples), and the hour as their sum.
// The elapsed time is computed in whole milliseconds and divided as a float8, exactly as the reference does.
const RECOMPUTE = `
  WITH keys AS (
    SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::int8[]) AS k(vehicle_id, ts, seq)
  ), affected AS (
    SELECT DISTINCT vehicle_id, hour FROM (
      SELECT vehicle_id, ${HOUR('ts')} AS hour FROM keys
      UNION ALL
      SELECT k.vehicle_id, ${HOUR('n.ts')} FROM keys k
      CROSS JOIN LATERAL (
        SELECT t.ts FROM telemetry t
        WHERE t.vehicle_id = k.vehicle_id AND (t.ts, t.seq) > (k.ts, k.seq)
        ORDER BY t.ts, t.seq LIMIT 1
      ) n
    ) h
  ), rows AS (
    SELECT a.vehicle_id, a.hour, r.*
    FROM affected a
    CROSS JOIN LATERAL (
      (SELECT t.ts, t.seq, ${COUNTER_LIST} FROM telemetry t
       WHERE t.vehicle_id = a.vehicle_id AND t.ts < a.hour
       ORDER BY t.ts DESC, t.seq DESC LIMIT 1)
      UNION ALL
      (SELECT t.ts, t.seq, ${COUNTER_LIST} FROM telemetry t
       WHERE t.vehicle_id = a.vehicle_id AND t.ts >= a.hour AND t.ts < a.hour + interval '1 hour')
    ) r
  ), steps AS (
    SELECT vehicle_id, hour, ts,
      (extract(epoch FROM ts - lag(ts) OVER w) * 1000)::float8 / 3600000 AS dh,
      ${ENERGY_HOURLY_COUNTERS.map(([c, t]) => `${t} - lag(${t}) OVER w AS d_${c}`).join(',\n      ')}
    FROM rows
    WINDOW w AS (PARTITION BY vehicle_id, hour ORDER BY ts, seq)
  ), bucket_sums AS (
    SELECT vehicle_id, hour, ${BUCKET('ts')} AS bucket,
      count(*)::int AS samples,
      ${ENERGY_HOURLY_COUNTERS.map(
        ([c], i) =>
          `COALESCE(sum(CASE WHEN d_${c} > 0 AND d_${c} <= ($4::float8[])[${i + 1}] * dh + ($5::float8[])[${i + 1}] THEN d_${c} ELSE 0 END), 0) AS ${c}`,
      ).join(',\n      ')}
    FROM steps WHERE ts >= hour
    GROUP BY 1, 2, 3
  ), buckets AS (
    INSERT INTO energy_10min (vehicle_id, bucket, samples, ${COLS.join(', ')})
    SELECT vehicle_id, bucket, samples, ${COLS.join(', ')} FROM bucket_sums ORDER BY vehicle_id, bucket
    ON CONFLICT (vehicle_id, bucket) DO UPDATE SET
      samples = excluded.samples,
      ${COLS.map((c) => `${c} = excluded.${c}`).join(',\n      ')},
      updated_at = now()
  ), sums AS (
    SELECT a.vehicle_id, a.hour,
      COALESCE(sum(b.samples), 0)::int AS samples,
      ${COLS.map((c) => `COALESCE(sum(b.${c}), 0) AS ${c}`).join(',\n      ')}
    FROM affected a
    LEFT JOIN bucket_sums b ON b.vehicle_id = a.vehicle_id AND b.hour = a.hour
    GROUP BY a.vehicle_id, a.hour
  )
  INSERT INTO energy_hourly (vehicle_id, hour, samples, ${COLS.join(', ')})
  SELECT vehicle_id, hour, samples, ${COLS.join(', ')} FROM sums ORDER BY vehicle_id, hour
  ON CONFLICT (vehicle_id, hour) DO UPDATE SET
    samples = excluded.samples,
    ${COLS.map((c) => `${c} = excluded.${c}`).join(',\n    ')},
    updated_at = now()`;

@Injectable()
export class EnergyHourlyRepository {
  constructor(@Inject(DATABASE) private readonly db: Kysely<DB>) {}

  /**
   * Adds pre-aggregated increases (one entry per vehicle and 10-minute bucket) to energy_10min, and their sums per
   * hour to energy_hourly. They travel by one binary COPY into a staging table of the transaction's connection instead
   * of 12 unnest arrays: less parsing in PostgreSQL and in Node. The COPY and both statements are queued on `queue`
   * (from IngestTransaction) and run with its next round trip.
   */
  addIncrements(rows: readonly EnergyIncrement[], queue: StatementQueue): void {
    if (rows.length === 0) return;
    queue.stage(INCREMENT_STAGE, incrementCopy(rows));
    queue.add(ADD_BUCKETS);
    queue.add(ADD);
  }

  /**
   * Recomputes, from the stored telemetry, every (vehicle, hour) that holds one of `keys` or the first sample after
   * one of them, with the bucket rows of those hours. Run it after the keys' rows are inserted, in the same
   * transaction, holding the vehicles' locks. Returns how many hour rows were rewritten.
   */
  async recomputeAround(keys: readonly SampleKey[], limits: StepLimits): Promise<number> {
    if (keys.length === 0) return 0;
    const result = await this.db.executeQuery(
      CompiledQuery.raw(RECOMPUTE, [
        keys.map((k) => k.vehicleId),
        keys.map((k) => k.ts.toISOString()),
        keys.map((k) => k.seq),
        [...limits.maxPerHour],
        [...limits.slack],
      ]),
    );
    return Number(result.numAffectedRows ?? 0n);
  }
}
