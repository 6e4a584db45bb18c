// Energy use of a tenant's fleet over [from, to), grouped (GET /api/v1/energy). Exact and fast at once:
// - the whole hours inside the range come from energy_hourly (one row per vehicle and hour);
// - the partial hour at either end is computed from raw telemetry with the rule ingestion uses to fill
//   energy_hourly: each pair of consecutive samples (by ts, seq) contributes `later − earlier` of every counter to
//   the time of the later sample; a negative step (counter reset) or a step beyond the counter's plausible rate for
//   the elapsed time contributes 0; a missing counter breaks that counter's chain. A pair counts when its later
//   sample lies in the partial part, its earlier one may lie before `from` (it is found through the primary key).
// So the answer equals the same computation over the raw rows of [from, to) (reportFromRaw, used by the tests and
// the benchmark), while a report on hour boundaries reads no raw rows at all.
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

interface Plan {
  hours?: { from: Date; to: Date };
  raw: Array<{ from: Date; to: Date }>;
}

/** Splits [from, to) into whole hours (from the rollup) and partial ends (from raw rows). */
export function planEnergyRange(from: Date, to: Date): Plan {
  const f = from.getTime();
  const t = to.getTime();
  const h1 = Math.ceil(f / HOUR_MS) * HOUR_MS;
  const h2 = Math.floor(t / HOUR_MS) * HOUR_MS;
  if (h1 >= h2) return { raw: f < t ? [{ from, to }] : [] };
  const raw: Array<{ from: Date; to: Date }> = [];
  if (f < h1) raw.push({ from, to: new Date(h1) });
  if (h2 < t) raw.push({ from: new Date(h2), to });
  return { hours: { from: new Date(h1), to: new Date(h2) }, raw };
}

@Injectable()
export class EnergyReportRepository {
  constructor(@Inject(DATABASE) private readonly db: Kysely<DB>) {}

  /** The report: energy_hourly for whole hours + raw pairs for the partial ends. */
  report(q: EnergyReportQuery): Promise<EnergyGroupRow[]> {
    return this.run(q, planEnergyRange(q.from, q.to));
  }

  /** The same figures computed from raw telemetry only (reference for tests and the benchmark). */
  reportFromRaw(q: EnergyReportQuery): Promise<EnergyGroupRow[]> {
    return this.run(q, { raw: [{ from: q.from, to: q.to }] });
  }

  private async run(q: EnergyReportQuery, plan: Plan): Promise<EnergyGroupRow[]> {
    const parts: RawBuilder<unknown>[] = [];
    const cols = ENERGY_COUNTERS.map((c) => sql.ref(c.column));
    if (plan.hours) {
      parts.push(sql`
        SELECT h.vehicle_id, h.hour AS t, ${sql.join(cols.map((c) => sql`h.${c}`))}
        FROM energy_hourly h JOIN veh ON veh.id = h.vehicle_id
        WHERE h.hour >= ${plan.hours.from.toISOString()}::timestamptz AND h.hour < ${plan.hours.to.toISOString()}::timestamptz`);
    }
    if (plan.raw.length > 0) parts.push(this.rawIncreases(plan.raw, q.stepLimits));

    const key = groupKey(q.groupBy);
    const sums = sql.join(ENERGY_COUNTERS.map((c) => sql`coalesce(sum(x.${sql.ref(c.column)}), 0)::float8 AS ${sql.ref(c.column)}`));
    const union = parts.length > 0 ? sql.join(parts, sql` UNION ALL `) : sql`SELECT NULL::text AS vehicle_id, NULL::timestamptz AS t, ${sql.join(ENERGY_COUNTERS.map((c) => sql`NULL::float8 AS ${sql.ref(c.column)}`))} WHERE false`;
    // Day groups come only from figures; every other grouping lists all vehicles of the tenant (zeros included).
    const join = q.groupBy === 'day' ? sql`JOIN x ON x.vehicle_id = veh.id` : sql`LEFT JOIN x ON x.vehicle_id = veh.id`;
    const { rows } = await sql<EnergyGroupRow>`
      WITH veh AS MATERIALIZED (SELECT id, type, body_type, powertrain FROM vehicles WHERE tenant_id = ${q.tenantId}),
      x AS (${union})
      SELECT ${key} AS key, count(DISTINCT veh.id)::int AS vehicles, ${sums}
      FROM veh ${join}
      GROUP BY 1 ORDER BY 1`.execute(this.db);
    return rows;
  }

  /**
   * Increases from raw rows for pairs whose later sample lies in one of the intervals: the samples inside each
   * interval plus, per vehicle, the one sample just before its start, chained with lag() in (ts, seq) order.
   */
  private rawIncreases(intervals: Array<{ from: Date; to: Date }>, limits: Readonly<Record<EnergyReportColumn, EnergyStepLimit>>): RawBuilder<unknown> {

    const pick = (alias: string) => sql.join(ENERGY_COUNTERS.map((c) => sql`${sql.ref(`${alias}.${c.counter}`)}`));
    const lags = sql.join(ENERGY_COUNTERS.map((c) => sql`lag(${sql.ref(c.counter)}) OVER w AS ${sql.ref(`p_${c.counter}`)}`));
    // Same arithmetic as stepIncrease(): elapsed hours = milliseconds / 3 600 000 in double precision.
    const steps = sql.join(
      ENERGY_COUNTERS.map((c) => {
        const cur = sql.ref(c.counter);
        const prev = sql.ref(`p_${c.counter}`);
        const limit = limits[c.column];
        return sql`CASE WHEN ${cur} - ${prev} > 0
            AND ${cur} - ${prev} <= ${limit.maxPerHour}::float8 * (greatest(0, extract(epoch FROM ts - p_ts) * 1000)::float8 / 3600000::float8) + ${limit.slack}::float8
          THEN ${cur} - ${prev} ELSE 0 END AS ${sql.ref(c.column)}`;
      }),
    );

    return sql`
      SELECT vehicle_id, ts AS t, ${steps}
      FROM (
        SELECT vehicle_id, ts, seq, inside, ${sql.join(ENERGY_COUNTERS.map((c) => sql.ref(c.counter)))}, lag(ts) OVER w AS p_ts, ${lags}
        FROM (${sql.join(
          // One branch per interval with its bounds as literals in the WHERE clause: a join against a VALUES list
          // hides them from the planner, which then scans all of telemetry (no chunk exclusion, no index range).
          intervals.map((i) => {
            const from = sql`${i.from.toISOString()}::timestamptz`;
            const to = sql`${i.to.toISOString()}::timestamptz`;
            return sql`
          SELECT t.vehicle_id, t.ts, t.seq, true AS inside, ${from} AS a, ${pick('t')}
          FROM telemetry t
          WHERE t.ts >= ${from} AND t.ts < ${to} AND t.vehicle_id IN (SELECT id FROM veh)
          UNION ALL
          SELECT p.vehicle_id, p.ts, p.seq, false AS inside, ${from} AS a, ${pick('p')}
          FROM veh
          CROSS JOIN LATERAL (
            SELECT * FROM telemetry tp WHERE tp.vehicle_id = veh.id AND tp.ts < ${from} ORDER BY tp.ts DESC, tp.seq DESC LIMIT 1
          ) p`;
          }),
          sql` UNION ALL `,
        )}
        ) u
        WINDOW w AS (PARTITION BY vehicle_id, a ORDER BY ts, seq)
      ) chained
      WHERE inside`;
  }
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
