// Read side of telemetry for the query API: one vehicle's raw samples, or a bucketed series (avg/min/max/last per
// signal) — time_bucket() on TimescaleDB, date_bin() on plain PostgreSQL, both anchored at the same origin so the
// buckets are identical. Every query is bounded by vehicle, time range and a row limit.
import { Inject, Injectable } from '@nestjs/common';
import { type Kysely, sql } from 'kysely';
import { type StorageBackend, detectBackend } from '../backend.js';
import { DATABASE, type DB } from '../database.js';
import type { TelemetryRow } from '../tables/telemetry.table.js';

/** Numeric signals a bucketed series can aggregate (whitelist: the names become column references). */
export const SERIES_SIGNALS = [
  'speed_kmh',
  'odometer_km',
  'soc_pct',
  'battery_voltage_v',
  'battery_current_a',
  'battery_temp_max_c',
  'battery_temp_min_c',
  'cell_v_max',
  'cell_v_min',
  'soh_pct',
  'h2_mass_kg',
  'h2_pressure_mpa',
  'fc_power_kw',
  'fc_temp_c',
  'fuel_level_pct',
  'fuel_rate_lph',
  'engine_rpm',
  'coolant_c',
  'body_power_kw',
  'traction_kwh',
  'body_kwh',
  'regen_kwh',
  'charged_kwh',
  'h2_used_kg',
  'fuel_used_l',
  'engine_hours',
  'body_hours',
] as const;
export type SeriesSignal = (typeof SERIES_SIGNALS)[number];

export interface SeriesPoint {
  avg: number | null;
  min: number | null;
  max: number | null;
  /** The value of the newest sample of the bucket that has one. */
  last: number | null;
}

export interface SeriesBucket {
  bucket: Date;
  samples: number;
  signals: Partial<Record<SeriesSignal, SeriesPoint>>;
}

export type RawSample = Omit<TelemetryRow, 'vehicle_id'>;

/** Buckets start at multiples of the width from this instant (a Monday, UTC midnight: TimescaleDB's default origin). */
const BUCKET_ORIGIN = '2000-01-03T00:00:00Z';

@Injectable()
export class TelemetryQueryRepository {
  private backend: Promise<StorageBackend> | undefined;

  constructor(@Inject(DATABASE) private readonly db: Kysely<DB>) {}

  private storageBackend(): Promise<StorageBackend> {
    this.backend ??= detectBackend(this.db).then(
      (info) => info.backend,
      (error: unknown) => {
        this.backend = undefined;
        throw error;
      },
    );
    return this.backend;
  }

  /** Raw samples in [from, to) in (ts, seq) order, after the (ts, seq) of `after`; limit + 1 rows. */
  async raw(vehicleId: string, from: Date, to: Date, page: { after?: { ts: Date; seq: number } | undefined; limit: number }): Promise<RawSample[]> {
    let q = this.db
      .selectFrom('telemetry')
      .selectAll()
      .where('vehicle_id', '=', vehicleId)
      .where('ts', '>=', from)
      .where('ts', '<', to);
    const after = page.after;
    if (after) q = q.where(sql<boolean>`(ts, seq) > (${after.ts.toISOString()}::timestamptz, ${after.seq}::bigint)`);
    const rows = await q.orderBy('ts').orderBy('seq').limit(page.limit + 1).execute();
    return rows.map(({ vehicle_id: _v, ...rest }) => rest);
  }

  /** Buckets of `bucketS` seconds over [from, to), oldest first, limit + 1 of them. */
  async buckets(vehicleId: string, from: Date, to: Date, bucketS: number, signals: readonly SeriesSignal[], limit: number): Promise<SeriesBucket[]> {
    const backend = await this.storageBackend();
    const width = sql`make_interval(secs => ${bucketS})`;
    const origin = sql`${BUCKET_ORIGIN}::timestamptz`;
    const bucketExpr = backend === 'timescaledb' ? sql`time_bucket(${width}, ts, ${origin})` : sql`date_bin(${width}, ts, ${origin})`;
    const aggregates = signals.map((s) => {
      const c = sql.ref(s);
      // min, max and last are samples: in the column's own type, so a `real` reads as the raw sample does (31.7, not
      // the 31.700000762939453 a cast to float8 shows of the same stored value). avg is computed, in float8.
      return sql`avg(${c})::float8 AS ${sql.ref(`${s}__avg`)}, min(${c}) AS ${sql.ref(`${s}__min`)}, max(${c}) AS ${sql.ref(`${s}__max`)},
        (array_agg(${c} ORDER BY ts DESC, seq DESC) FILTER (WHERE ${c} IS NOT NULL))[1] AS ${sql.ref(`${s}__last`)}`;
    });
    const { rows } = await sql<Record<string, unknown>>`
      SELECT ${bucketExpr} AS bucket, count(*)::int AS samples${aggregates.length > 0 ? sql`, ${sql.join(aggregates)}` : sql``}
      FROM telemetry
      WHERE vehicle_id = ${vehicleId} AND ts >= ${from.toISOString()}::timestamptz AND ts < ${to.toISOString()}::timestamptz
      GROUP BY 1 ORDER BY 1 LIMIT ${limit + 1}`.execute(this.db);
    return rows.map((r) => {
      const out: SeriesBucket = { bucket: r.bucket as Date, samples: r.samples as number, signals: {} };
      for (const s of signals) {
        out.signals[s] = {
          avg: (r[`${s}__avg`] as number | null) ?? null,
          min: (r[`${s}__min`] as number | null) ?? null,
          max: (r[`${s}__max`] as number | null) ?? null,
          last: (r[`${s}__last`] as number | null) ?? null,
        };
      }
      return out;
    });
  }
}
