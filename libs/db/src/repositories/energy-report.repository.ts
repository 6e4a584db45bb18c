// Energy use of a tenant's fleet over [from, to), grouped (GET /api/v1/energy). Exact and fast at once:
// - the whole UTC days inside the range come from energy_daily (one row per vehicle and day, kept equal to the sum of
//   the day's energy_hourly rows by triggers on energy_hourly);
// - the whole hours outside those days from energy_hourly (one row per vehicle and hour);
// - the partial hour at either end is computed from raw telemetry with the rule ingestion uses to fill
//   energy_hourly: each pair of consecutive samples (by ts, seq) contributes `later − earlier` of every counter to
//   the time of the later sample; a negative step (counter reset) or a step beyond the counter's plausible rate for
//   the elapsed time contributes 0; a missing counter breaks that counter's chain. A pair counts when its later
//   sample lies in the partial part, its earlier one may lie before `from` (it is found through the primary key).
// So the answer equals the same computation over the raw rows of [from, to) (reportFromRaw, used by the tests and
// the benchmark), while a 30-day report reads ~30 + 2 × 23 rollup rows per vehicle and a report on hour boundaries
// reads no raw rows at all. Each part is summed per vehicle (and day) before the parts meet, so the final join and
// grouping see about one row per vehicle: summing 720 hourly rows per vehicle and sorting them all for the grouping
// took 200+ ms for 1,000 vehicles × 30 days (EXPLAIN ANALYZE, TimescaleDB).
import { Inject, Injectable } from '@nestjs/common';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { DATABASE, type DB } from '../database.js';

/** energy_hourly increase columns and the telemetry counter each is computed from. */
export const ENERGY_COUNTERS = [
  { column: 'distance_km', counter: 'odometer_km' },
  { column: 'traction_kwh', counter: 'traction_kwh' },
  { column: 'body_kwh', counter: 'body_kwh' },
  { column: 'regen_kwh', counter: 'regen_kwh' },
  { column: 'charged_kwh', counter: 'charged_kwh' },
  { column: 'h2_kg', counter: 'h2_used_kg' },
  { column: 'fuel_l', counter: 'fuel_used_l' },
  { column: 'engine_hours', counter: 'engine_hours' },
  { column: 'body_hours', counter: 'body_hours' },
] as const;

export type EnergyReportColumn = (typeof ENERGY_COUNTERS)[number]['column'];

/** Plausibility cap of one counter: a step above maxPerHour × elapsed hours + slack contributes 0. */
export interface EnergyStepLimit {
  maxPerHour: number;
  slack: number;
}

export type EnergyGroupBy = 'vehicle' | 'type' | 'body_type' | 'powertrain' | 'day';

export interface EnergyReportQuery {
  tenantId: string;
  from: Date;
  to: Date;
  groupBy: EnergyGroupBy;
  /** The caps ingestion applies (apps/ingestion/src/energy/energy-increase.ts STEP_LIMITS), per column. */
  stepLimits: Readonly<Record<EnergyReportColumn, EnergyStepLimit>>;
}

export type EnergySumsRow = Record<EnergyReportColumn, number>;

export interface EnergyGroupRow extends EnergySumsRow {
  /** The group's key: vehicle id, type, body type, powertrain, or the UTC day (YYYY-MM-DD). */
  key: string;
  /** Vehicles in the group (for day: vehicles with a figure that day). */
  vehicles: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** How far before a partial hour its scan starts, to find each vehicle's preceding sample there (see rawIncreases). */
const PREDECESSOR_LOOKBACK_MS = 5 * 60_000;

export interface TimeRange {
  from: Date;
  to: Date;
}

export interface EnergyRangePlan {
  /** Whole UTC days, from energy_daily. */
  days?: TimeRange;
  /** Whole hours outside those days, from energy_hourly. */
  hours: TimeRange[];
  /** Partial hours at either end, from raw telemetry. */
  raw: TimeRange[];
}

const ceilTo = (ms: number, unit: number): number => Math.ceil(ms / unit) * unit;
const floorTo = (ms: number, unit: number): number => Math.floor(ms / unit) * unit;

/** Splits [from, to) into whole days and whole hours (from the rollups) and partial hours (from raw rows). */
export function planEnergyRange(from: Date, to: Date): EnergyRangePlan {
  const f = from.getTime();
  const t = to.getTime();
  const h1 = ceilTo(f, HOUR_MS);
  const h2 = floorTo(t, HOUR_MS);
  if (h1 >= h2) return { hours: [], raw: f < t ? [{ from, to }] : [] };
  const raw: TimeRange[] = [];
  if (f < h1) raw.push({ from, to: new Date(h1) });
  if (h2 < t) raw.push({ from: new Date(h2), to });
  const d1 = ceilTo(h1, DAY_MS);
  const d2 = floorTo(h2, DAY_MS);
  if (d1 >= d2) return { hours: [{ from: new Date(h1), to: new Date(h2) }], raw };
  const hours: TimeRange[] = [];
  if (h1 < d1) hours.push({ from: new Date(h1), to: new Date(d1) });
  if (d2 < h2) hours.push({ from: new Date(d2), to: new Date(h2) });
  return { days: { from: new Date(d1), to: new Date(d2) }, hours, raw };
}

@Injectable()
export class EnergyReportRepository {
  constructor(@Inject(DATABASE) private readonly db: Kysely<DB>) {}

  /** The report: energy_daily for whole days, energy_hourly for whole hours, raw pairs for the partial hours. */
  report(q: EnergyReportQuery): Promise<EnergyGroupRow[]> {
    return this.run(q, planEnergyRange(q.from, q.to));
  }

  /** The same figures computed from raw telemetry only (reference for tests and the benchmark). */
  reportFromRaw(q: EnergyReportQuery): Promise<EnergyGroupRow[]> {
    return this.run(q, { hours: [], raw: [{ from: q.from, to: q.to }] });
  }

  private async run(q: EnergyReportQuery, plan: EnergyRangePlan): Promise<EnergyGroupRow[]> {
    const byDay = q.groupBy === 'day';
    // Each part summed per vehicle, and per UTC day for group_by=day (t = the day; otherwise NULL, one row per vehicle).
    const summed = (source: RawBuilder<unknown>, where: RawBuilder<unknown>, time: RawBuilder<unknown>) => sql`
        SELECT r.vehicle_id, ${byDay ? sql`date_trunc('day', ${time}, 'UTC')` : sql`NULL::timestamptz`} AS t, ${sumsOf('r')}
        FROM ${source} r WHERE ${where} GROUP BY 1, 2`;
    const ofTenant = sql`r.vehicle_id IN (SELECT id FROM veh)`;
    const parts: RawBuilder<unknown>[] = [];
    if (plan.days) parts.push(summed(sql`energy_daily`, sql`${ofTenant} AND ${within(sql`r.day`, plan.days)} AND r.hours > 0`, sql`r.day`));
    // One branch per range with its bounds as literals (see rawIncreases).
    for (const h of plan.hours) parts.push(summed(sql`energy_hourly`, sql`${ofTenant} AND ${within(sql`r.hour`, h)}`, sql`r.hour`));
    // (rawIncreases reads only the tenant's vehicles.)
    if (plan.raw.length > 0) parts.push(summed(sql`(${this.rawIncreases(plan.raw, q.stepLimits)})`, sql`true`, sql`r.t`));

    const key = groupKey(q.groupBy);
    const totals = sql.join(ENERGY_COUNTERS.map((c) => sql`coalesce(sum(x.${sql.ref(c.column)}), 0)::float8 AS ${sql.ref(c.column)}`));
    const union = parts.length > 0 ? sql.join(parts, sql` UNION ALL `) : sql`SELECT NULL::text AS vehicle_id, NULL::timestamptz AS t, ${sql.join(ENERGY_COUNTERS.map((c) => sql`NULL::float8 AS ${sql.ref(c.column)}`))} WHERE false`;
    // Day groups come only from figures; every other grouping lists all vehicles of the tenant (zeros included).
    const join = byDay ? sql`JOIN x ON x.vehicle_id = veh.id` : sql`LEFT JOIN x ON x.vehicle_id = veh.id`;
    // x holds one row per vehicle (and day): count(*) counts the group's vehicles.
    const { rows } = await sql<EnergyGroupRow>`
      WITH veh AS MATERIALIZED (SELECT id, type, body_type, powertrain FROM vehicles WHERE tenant_id = ${q.tenantId}),
      parts AS (${union}),
      x AS (SELECT p.vehicle_id, p.t, ${sumsOf('p')} FROM parts p GROUP BY 1, 2)
      SELECT ${key} AS key, count(*)::int AS vehicles, ${totals}
      FROM veh ${join}
      GROUP BY 1 ORDER BY 1`.execute(this.db);
    return rows;
  }

  /**
   * Increases from raw rows for pairs whose later sample lies in one of the intervals: the samples inside each
   * interval plus, per vehicle, the one sample just before its start, chained with lag() in (ts, seq) order.
   *
   * The sample before the start is found in the scan of the interval extended back by PREDECESSOR_LOOKBACK (every
   * vehicle reporting at least that often has one there); only a vehicle with samples inside but none in the
   * lookback is looked up through the primary key. One such lookup per vehicle for every report cost 20–35 µs on
   * TimescaleDB — the newest chunk's lookup walks a ChunkAppend over every older chunk — 40–100 ms for 1,000
   * vehicles at both ends.
   */
  private rawIncreases(intervals: readonly TimeRange[], limits: Readonly<Record<EnergyReportColumn, EnergyStepLimit>>): RawBuilder<unknown> {
    const counters = (alias: string) => sql.join(ENERGY_COUNTERS.map((c) => sql.ref(`${alias}.${c.counter}`)));
    // Same arithmetic as stepIncrease(): elapsed hours = milliseconds / 3 600 000 in double precision, computed once
    // per pair; each counter's step `later − earlier` once per pair.
    const deltas = sql.join(ENERGY_COUNTERS.map((c) => sql`${sql.ref(c.counter)} - lag(${sql.ref(c.counter)}) OVER w AS ${sql.ref(`d_${c.column}`)}`));
    const steps = sql.join(
      ENERGY_COUNTERS.map((c) => {
        const d = sql.ref(`d_${c.column}`);
        const limit = limits[c.column];
        return sql`CASE WHEN ${d} > 0 AND ${d} <= ${limit.maxPerHour}::float8 * dh + ${limit.slack}::float8 THEN ${d} ELSE 0 END AS ${sql.ref(c.column)}`;
      }),
    );
    // One scan per interval with its bounds as literals in the WHERE clause: a join against a VALUES list hides them
    // from the planner, which then scans all of telemetry (no chunk exclusion, no index range).
    const spans = intervals.map((i, n) => {
      const lookback = new Date(i.from.getTime() - PREDECESSOR_LOOKBACK_MS);
      return sql`${sql.ref(`span${n}`)} AS MATERIALIZED (
          SELECT t.vehicle_id, t.ts, t.seq, ${i.from.toISOString()}::timestamptz AS a, ${counters('t')}
          FROM telemetry t
          WHERE ${within(sql`t.ts`, { from: lookback, to: i.to })} AND t.vehicle_id IN (SELECT id FROM veh)
        )`;
    });
    const branches = intervals.map((i, n) => {
      const span = sql.ref(`span${n}`);
      const from = sql`${i.from.toISOString()}::timestamptz`;
      return sql`
          SELECT vehicle_id, ts, seq, a, ${counters(`span${n}`)} FROM ${span}
          UNION ALL
          SELECT p.vehicle_id, p.ts, p.seq, ${from}, ${counters('p')}
          FROM (SELECT vehicle_id FROM ${span} GROUP BY vehicle_id HAVING bool_and(ts >= ${from})) lone
          CROSS JOIN LATERAL (
            SELECT * FROM telemetry tp WHERE tp.vehicle_id = lone.vehicle_id AND tp.ts < ${from} ORDER BY tp.ts DESC, tp.seq DESC LIMIT 1
          ) p`;
    });

    return sql`
      WITH ${sql.join(spans)}
      SELECT vehicle_id, ts AS t, ${steps}
      FROM (
        SELECT vehicle_id, ts, a, (greatest(0, extract(epoch FROM ts - lag(ts) OVER w) * 1000)::float8 / 3600000::float8) AS dh, ${deltas}
        FROM (${sql.join(branches, sql` UNION ALL `)}) u
        -- Byte order for the partitions: they only need equal ids together, and the database's collation (strcoll, no
        -- abbreviated keys) made this sort of ~16k rows several times slower.
        WINDOW w AS (PARTITION BY vehicle_id COLLATE "C", a ORDER BY ts, seq)
      ) chained
      WHERE ts >= a`;
  }
}

/** sum(alias.column) AS column, for every increase column. */
function sumsOf(alias: string): RawBuilder<unknown> {
  return sql.join(ENERGY_COUNTERS.map((c) => sql`sum(${sql.ref(`${alias}.${c.column}`)}) AS ${sql.ref(c.column)}`));
}

/** `column` in [range.from, range.to), bounds as literals so the planner sees them. */
function within(column: RawBuilder<unknown>, range: TimeRange): RawBuilder<unknown> {
  return sql`${column} >= ${range.from.toISOString()}::timestamptz AND ${column} < ${range.to.toISOString()}::timestamptz`;
}

function groupKey(groupBy: EnergyGroupBy): RawBuilder<string> {
  switch (groupBy) {
    case 'vehicle':
      return sql<string>`veh.id`;
    case 'type':
      return sql<string>`veh.type`;
    case 'body_type':
      return sql<string>`veh.body_type`;
    case 'powertrain':
      return sql<string>`veh.powertrain`;
    case 'day':
      return sql<string>`to_char(x.t AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;
  }
}
