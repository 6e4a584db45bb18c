// Energy use of a tenant's fleet over [from, to), grouped (GET /api/v1/energy). Exact and fast at once. The rule is
// the one ingestion fills energy_hourly with: each pair of consecutive samples (by ts, seq) contributes
// `later − earlier` of every counter to the time of the later sample; a negative step (counter reset) or a step beyond
// the counter's plausible rate for the elapsed time contributes 0; a missing counter breaks that counter's chain. A
// pair counts in [from, to) when its later sample lies there (the earlier one may lie before `from`).
// Every pair belongs to exactly one instant, so sums over disjoint time parts add up, and the range is computed as
// signed parts (planEnergyRange):
// - whole UTC months from energy_monthly and whole UTC days from energy_daily (one row per vehicle and month or day:
//   the sum of its energy_hourly rows before the rollup's watermark, kept so by triggers and the rollup) plus the
//   month's or day's energy_hourly rows from the watermark on, whole hours from energy_hourly (group_by=day takes no
//   months: its groups are days), whole 10-minute buckets from energy_10min (from the time its migration recorded);
// - what no rollup row covers whole from raw telemetry, with the rule above (rawIncreases);
// - a partial bucket (hour, day, month) either from its part inside the range, or as its rollup row MINUS its part
//   outside the range, whichever has less raw time (then fewer rollup rows). For a range ending now the part after
//   `to` holds no samples yet: the current bucket, hour, day and month come from their rollup rows, the parts after
//   the tenant's newest sample are left out (report() reads it in the same snapshot), and a 30-day report reads one or
//   two month rows, ≤ 15 day rows, ≤ 12 hour rows and ≤ 3 bucket rows per end, and the raw rows of at most 5 minutes
//   (at the start only) per vehicle.
// So the answer equals the same computation over the raw rows of [from, to) (reportFromRaw, used by the tests and
// the benchmark) up to float summation order; a total within 1e-9 of zero is 0 (what a subtraction leaves where the
// range adds nothing). Each part is summed per vehicle (and day) before the parts meet, so the final join and grouping
// see about one row per vehicle: summing 720 hourly rows per vehicle and sorting them all for the grouping took
// 200+ ms for 1,000 vehicles × 30 days (EXPLAIN ANALYZE, TimescaleDB).
import { Inject, Injectable } from '@nestjs/common';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type pg from 'pg';
import { DATABASE, type DB, poolOf } from '../database.js';

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

const TEN_MINUTES_MS = 600_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/**
 * How far before a raw part its scan starts, at most and at least, to find each vehicle's preceding sample there (see
 * lookbackFor, rawIncreases).
 */
const PREDECESSOR_LOOKBACK_MS = 5 * 60_000;
const MIN_LOOKBACK_MS = 10_000;
/** How far back a vehicle's predecessor is looked up before the report is computed again without a bound (see rawIncreases). */
const PREDECESSOR_HORIZON_MS = DAY_MS;
/** How far past the clock samples may lie (ingestion accepts timestamps up to 5 min ahead of its own clock). */
const FUTURE_SLACK_MS = 10 * 60_000;

export interface TimeRange {
  from: Date;
  to: Date;
}

/** A range whose figures are added (+1) or subtracted (−1). */
export interface SignedRange extends TimeRange {
  sign: 1 | -1;
}

/**
 * [from, to) as signed sums over parts: whole UTC months from energy_monthly, whole UTC days from energy_daily, whole
 * hours from energy_hourly, whole 10-minute buckets from energy_10min, and raw pairs for what no rollup row covers
 * whole. A part is subtracted where covering more and taking the excess off is cheaper (see planEnergyRange).
 */
export interface EnergyRangePlan {
  months: SignedRange[];
  days: SignedRange[];
  hours: SignedRange[];
  tenMinutes: SignedRange[];
  raw: SignedRange[];
}

export interface EnergyPlanOptions {
  /** Whole months may come from energy_monthly (not for group_by=day, whose groups are days). Default true. */
  months?: boolean;
  /**
   * Whole 10-minute buckets may come from energy_10min from this time on (specfleet_meta.energy_10min_since: bucket
   * rows are complete from there). Default: none.
   */
  tenMinutesSince?: Date;
}

/** Groups in code-unit order of their keys (ids, type names, YYYY-MM-DD), whatever the database's collation. */
export const compareGroupKeys = (a: { key: string }, b: { key: string }): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

const ceilTo = (ms: number, unit: number): number => Math.ceil(ms / unit) * unit;
const floorTo = (ms: number, unit: number): number => Math.floor(ms / unit) * unit;
const floorMonth = (ms: number): number => {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
};
const nextMonth = (ms: number): number => {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
};

/** A signed part in epoch ms, while plans are compared (Dates only for the chosen one). */
interface MsRange {
  from: number;
  to: number;
  sign: 1 | -1;
}

interface MsPlan {
  months: MsRange[];
  days: MsRange[];
  hours: MsRange[];
  tenMinutes: MsRange[];
  raw: MsRange[];
}

/** Sum over [a, b) for a ≤ b, minus the sum over [b, a) otherwise: signed(a, b) + signed(b, c) = signed(a, c). */
function signed(a: number, b: number, sign: 1 | -1, into: MsRange[]): void {
  if (a < b) into.push({ from: a, to: b, sign });
  else if (b < a) into.push({ from: b, to: a, sign: sign === 1 ? -1 : 1 });
}

const toDates = (ranges: MsRange[]): SignedRange[] => ranges.map((r) => ({ from: new Date(r.from), to: new Date(r.to), sign: r.sign }));

/**
 * Splits [from, to) into signed parts, cheapest first by raw time, then by rollup rows; time from `storedUntil` on
 * counts as free, since nothing is stored there (a cost estimate only: every plan gives the same answer).
 *
 * With P(x) the sum of every pair whose later sample lies before x, the range is P(to) − P(from), and each end x is
 * written through a chain of boundaries: a 10-minute boundary B next to x (floor or ceiling; or none, B = x), an hour
 * boundary H next to B, a day boundary D next to H and a month boundary M next to D, up to a top level:
 * P(x) = P(M) + signed(M, D) from energy_daily + signed(D, H) from energy_hourly + signed(H, B) from energy_10min +
 * signed(B, x) from raw pairs. The part between the two ends' tops comes from the top level's rollup. Which neighbours
 * are chosen changes the cost, never the sum: the parts are sums over disjoint sets of pairs (each pair belongs to the
 * time of its later sample), so adding a whole hour and subtracting the pairs of its part outside the range is the
 * pairs inside. For a range ending now, the part after `to` is in the future: its raw rows, buckets, hours and days
 * are none, and the partial hour, day and month come from their rollup rows.
 *
 * The cost is a sum over parts, so each end's chains are compared on their own (42 per end: 6 up to hours, 12 up to
 * days, 24 up to months), keeping the cheapest per top level and top boundary, and only those are paired: 0.02–0.05 ms
 * of CPU per plan of the benchmark's range, against 0.51–0.61 ms for comparing all 757 whole plans as before (Node 24,
 * this machine, 2,000 plans in a loop, three rounds each). Among plans of equal cost the first found is kept: raw rows
 * only, then hours, days and months as the top level.
 */
export function planEnergyRange(
  from: Date,
  to: Date,
  storedUntil: Date = new Date(Date.now() + FUTURE_SLACK_MS),
  options: EnergyPlanOptions = {},
): EnergyRangePlan {
  const f = from.getTime();
  const t = to.getTime();
  if (f >= t) return { months: [], days: [], hours: [], tenMinutes: [], raw: [] };
  const horizon = storedUntil.getTime();
  const tensSince = options.tenMinutesSince?.getTime() ?? Infinity;
  const topLevels = options.months === false ? 2 : 3;
  /** Stored time in [a, b) or [b, a). */
  const stored = (a: number, b: number): number => Math.max(0, Math.min(Math.max(a, b), horizon) - Math.min(a, b));
  const rows = (a: number, b: number, unit: number): number => Math.ceil(stored(a, b) / unit);
  // Month rows: the months that begin before the end of the stored part (the bounds are month starts).
  const monthRows = (a: number, b: number): number => {
    let n = 0;
    for (let m = Math.min(a, b); m < Math.min(Math.max(a, b), horizon); m = nextMonth(m)) n++;
    return n;
  };
  const near = (x: number, unit: number): number[] => (floorTo(x, unit) === x ? [x] : [floorTo(x, unit), ceilTo(x, unit)]);
  const nearMonth = (x: number): number[] => (floorMonth(x) === x ? [x] : [floorMonth(x), nextMonth(x)]);

  /** One end's chain of boundaries up to its top (B undefined: none; the levels above the top unset). */
  interface Chain {
    raw: number;
    rollup: number;
    b: number | undefined;
    h: number;
    d?: number;
    m?: number;
  }
  const cheaper = (a: { raw: number; rollup: number }, b: { raw: number; rollup: number } | undefined): boolean =>
    !b || a.raw < b.raw || (a.raw === b.raw && a.rollup < b.rollup);
  /**
   * The cheapest chain of end x for each top level (0 hours, 1 days, 2 months) and top boundary. Inner
   * choices first (ceiling at `from`, floor at `to`): on a tie nothing is subtracted.
   */
  const chainsOf = (x: number, inner: (xs: number[]) => number[]): Array<Map<number, Chain>> => {
    const best: Array<Map<number, Chain>> = [new Map(), new Map(), new Map()];
    const keep = (level: number, top: number, c: Chain): void => {
      if (cheaper(c, best[level]!.get(top))) best[level]!.set(top, c);
    };
    for (const b of [...inner(near(x, TEN_MINUTES_MS)), undefined]) {
      for (const h of inner(near(b ?? x, HOUR_MS))) {
        // x → B raw, B → H from bucket rows (which must exist there); without B, x → H raw.
        if (b !== undefined && Math.min(b, h) < tensSince) continue;
        const c0: Chain = b === undefined ? { raw: stored(h, x), rollup: 0, b, h } : { raw: stored(b, x), rollup: rows(h, b, TEN_MINUTES_MS), b, h };
        keep(0, h, c0);
        for (const d of inner(near(h, DAY_MS))) {
          const c1: Chain = { ...c0, rollup: c0.rollup + rows(d, h, HOUR_MS), d };
          keep(1, d, c1);
          if (topLevels < 3) continue;
          for (const m of inner(nearMonth(d))) keep(2, m, { ...c1, rollup: c1.rollup + rows(m, d, DAY_MS), m });
        }
      }
    }
    return best;
  };
  const starts = chainsOf(f, (xs) => [...xs].reverse());
  const ends = chainsOf(t, (xs) => xs);

  // Raw rows only (a range inside one bucket) first, then each top level from the finest up.
  let best: { raw: number; rollup: number; plan: () => MsPlan } = { raw: stored(f, t), rollup: 0, plan: () => ({ months: [], days: [], hours: [], tenMinutes: [], raw: [{ from: f, to: t, sign: 1 }] }) };
  const units = [HOUR_MS, DAY_MS];
  for (let level = 0; level < topLevels; level++) {
    for (const [top0, c0] of starts[level]!) {
      for (const [top1, c1] of ends[level]!) {
        // Above hours, a whole day or month between the tops (otherwise a finer top level is cheaper).
        if (level > 0 && top0 >= top1) continue;
        const middle = level === 2 ? monthRows(top0, top1) : rows(top0, top1, units[level]!);
        const cost = { raw: c0.raw + c1.raw, rollup: c0.rollup + c1.rollup + middle };
        if (cheaper(cost, best)) best = { ...cost, plan: () => planOf(level, top0, top1, c0, c1) };
      }
    }
  }
  const plan = best.plan();
  return {
    months: toDates(plan.months),
    days: toDates(plan.days),
    hours: toDates(plan.hours),
    tenMinutes: toDates(plan.tenMinutes),
    raw: toDates(plan.raw),
  };

  /** The parts of a pairing: each end's links (signed(upper, lower, sign)), the middle at the top level. */
  function planOf(level: number, top0: number, top1: number, c0: Chain, c1: Chain): MsPlan {
    const plan: MsPlan = { months: [], days: [], hours: [], tenMinutes: [], raw: [] };
    const end = (x: number, c: Chain, sign: 1 | -1): void => {
      if (c.b === undefined) signed(c.h, x, sign, plan.raw);
      else {
        signed(c.b, x, sign, plan.raw);
        signed(c.h, c.b, sign, plan.tenMinutes);
      }
      if (level >= 1) signed(c.d!, c.h, sign, plan.hours);
      if (level >= 2) signed(c.m!, c.d!, sign, plan.days);
    };
    end(f, c0, -1);
    end(t, c1, 1);
    signed(top0, top1, 1, [plan.hours, plan.days, plan.months][level]!);
    return plan;
  }
}

/**
 * The plan without the parts that begin at or after `emptyFrom`: in a snapshot where no sample lies at or after it,
 * such a part has no raw row and no rollup row (a rollup row's time is the start of the bucket, hour, day or month of
 * one of its samples), so it adds nothing. For a range ending now these are the parts after the newest sample: the
 * rest of the current bucket, hour and day, in raw rows and in rollup rows; leaving them out saved 3–10 ms of a
 * 26–33 ms statement (pgbench, in turn, the benchmark's data), their planning included.
 */
export function withoutPartsFrom(plan: EnergyRangePlan, emptyFrom: Date): EnergyRangePlan {
  const at = emptyFrom.getTime();
  const keep = (ranges: SignedRange[]) => ranges.filter((r) => r.from.getTime() < at);
  return { months: keep(plan.months), days: keep(plan.days), hours: keep(plan.hours), tenMinutes: keep(plan.tenMinutes), raw: keep(plan.raw) };
}

/**
 * How raw parts are scanned (see rawIncreases): parts from `storedUntil` on without a lookback; the others with
 * `lookbackMs`, or a lookback from the sample rate of the hour they start in (`samplesPerHour`, keyed by the hour's
 * start in ms) or PREDECESSOR_LOOKBACK, shortened for short parts (lookbackAlong). Every choice gives the same answer:
 * only the cost differs.
 */
export interface RawScanOptions {
  storedUntil?: Date;
  lookbackMs?: number;
  samplesPerHour?: ReadonlyMap<number, number>;
}

/**
 * The lookback for a raw part whose vehicles send `samplesPerHour` samples an hour each (their mean over the hour the
 * part starts in, from energy_hourly): about three sample intervals, between 10 s and PREDECESSOR_LOOKBACK. At one
 * sample every 5 min that is the whole 5 min (one sample per vehicle); at one a second, 10 s instead of 300 rows per
 * vehicle to sort and chain. A vehicle with no sample in its lookback is looked up through the primary key
 * (8–35 µs each), so a lookback too short costs lookups, never a wrong figure. Unknown rate: the longest.
 */
export function lookbackFor(samplesPerHour: number | undefined): number {
  if (samplesPerHour === undefined || !(samplesPerHour > 0)) return PREDECESSOR_LOOKBACK_MS;
  return Math.min(PREDECESSOR_LOOKBACK_MS, Math.max(MIN_LOOKBACK_MS, Math.round((3 * HOUR_MS) / samplesPerHour)));
}

/**
 * The lookback for a raw part `partMs` long, `full` being lookbackFor its sample rate: the full one, unless the part is
 * shorter than a third of it; then MIN_LOOKBACK. A part of a few seconds (what is left between a range's end and the
 * nearest 10-minute bucket) holds few samples, whose predecessors a primary-key lookup finds for ~8 µs each (977
 * lookups in 9 ms when the predecessor lies in the same chunk), and its scan is then small enough for the planner to
 * take the primary key instead of reading the whole chunk: 6 ms against 17 ms for a 9-second part at 1,000 vehicles
 * every 5 min (EXPLAIN ANALYZE, the benchmark's data). For longer parts the lookback's rows (~3.5 µs each to sort and
 * chain) cost less than the lookups they save: a 129-second part scanned with a lookback of its own length instead of
 * the full 5 minutes made the report slower (p50 60.5 against 54.7 ms, side by side). These figures are from before
 * the index on telemetry (ts) (migration 2026_12_01_100000), through which TimescaleDB now reads such a scan's pages.
 */
export function lookbackAlong(partMs: number, full: number): number {
  return partMs < full / 3 ? Math.min(full, MIN_LOOKBACK_MS) : full;
}

@Injectable()
export class EnergyReportRepository {
  /**
   * @param root the pool's Kysely when `db` is a transaction of report(): the raw part may then run on a second
   *   connection of that pool (see run()).
   */
  constructor(
    @Inject(DATABASE) private readonly db: Kysely<DB>,
    private readonly root?: Kysely<DB>,
  ) {}

  /**
   * The report: whole months, days, hours and 10-minute buckets from their rollups, the rest from raw pairs, each
   * partial bucket, hour and day from its shorter side (see planEnergyRange). Time after the tenant's newest sample
   * (vehicle_state) counts as empty for that choice, and the parts that begin after it are left out (see
   * withoutPartsFrom).
   *
   * Both statements see one snapshot (a REPEATABLE READ, read-only transaction: two more round trips): the newest
   * sample read by the first then bounds what the second sees. Read committed, a sample committed between the two
   * could be counted in a rollup row of the range while the part that takes it off again is left out as empty.
   * vehicle_state.last_ts is the newest (ts, seq) of the vehicle's stored samples: ingestion moves it in the
   * transaction that stores them, never back in time. On a Kysely that is already a transaction (of unknown isolation)
   * no part is left out.
   */
  async report(q: EnergyReportQuery): Promise<EnergyGroupRow[]> {
    if (this.db.isTransaction) return finish(await this.reportIn(q, false));
    // The answer's rows are made after the commit: the connection goes back to the pool meanwhile.
    const rows = await this.db
      .transaction()
      .setIsolationLevel('repeatable read')
      .setAccessMode('read only')
      .execute((trx) => new EnergyReportRepository(trx, this.db).reportIn(q, true));
    return finish(rows);
  }

  private async reportIn(q: EnergyReportQuery, oneSnapshot: boolean): Promise<EnergyGroupRow[]> {
    // Every raw part starts in the hour of `from` or of `to`: their sample rates set the lookbacks, in the same round
    // trip as the newest sample. The rate of an hour is the mean of the samples of 20 of the tenant's vehicles that
    // have a row there (an estimate is enough: the lookback changes the cost, never the figures), +0.5 ms against
    // 5 ms for all 1,000 vehicles' rows (psql, the benchmark's data).
    // A range inside one hour reads its rate once.
    const fromHour = floorTo(q.from.getTime(), HOUR_MS);
    const toHour = floorTo(q.to.getTime(), HOUR_MS);
    const rate = (hour: number) => sql`(SELECT avg(s.samples)::float8 FROM (
        SELECT h.samples FROM energy_hourly h
        WHERE h.hour = ${new Date(hour).toISOString()}::timestamptz AND h.vehicle_id IN (SELECT id FROM vehicles WHERE tenant_id = ${q.tenantId})
        LIMIT 20) s)`;
    // Bucket rows (energy_10min) are complete from specfleet_meta.energy_10min_since on (its migration).
    // The snapshot is exported for a second connection that may compute the raw part alongside (see run()): +0.07 ms
    // (pgbench). Not for group_by=day, which is never split.
    const exported = oneSnapshot && this.root !== undefined && q.groupBy !== 'day';
    const { rows } = await sql<{ newest: Date | null; from_rate: number | null; to_rate: number | null; ten_since: string | null; snapshot: string | null }>`
      SELECT (SELECT max(last_ts) FROM vehicle_state WHERE tenant_id = ${q.tenantId}) AS newest, ${rate(fromHour)} AS from_rate,
        ${toHour === fromHour ? sql`NULL::float8` : rate(toHour)} AS to_rate,
        (SELECT value FROM specfleet_meta WHERE key = 'energy_10min_since') AS ten_since,
        ${exported ? sql`pg_export_snapshot()` : sql`NULL::text`} AS snapshot`.execute(this.db);
    const row = rows[0];
    const tenMinutesSince = parseSince(row?.ten_since ?? null);
    const newest = row?.newest ?? null;
    const clock = Date.now() + FUTURE_SLACK_MS;
    const storedUntil = new Date(newest === null ? clock : Math.min(clock, newest.getTime() + 1));
    const samplesPerHour = new Map<number, number>();
    if (row?.from_rate != null) samplesPerHour.set(fromHour, row.from_rate);
    if (row?.to_rate != null) samplesPerHour.set(toHour, row.to_rate);
    const planned = planEnergyRange(q.from, q.to, storedUntil, { months: q.groupBy !== 'day', tenMinutesSince });
    const plan = oneSnapshot && newest !== null ? withoutPartsFrom(planned, new Date(newest.getTime() + 1)) : planned;
    const alongside = exported && row?.snapshot ? { root: this.root!, snapshot: row.snapshot } : undefined;
    return this.run(q, plan, { storedUntil, samplesPerHour }, alongside);
  }

  /** The same figures computed from raw telemetry only (reference for tests and the benchmark). */
  async reportFromRaw(q: EnergyReportQuery): Promise<EnergyGroupRow[]> {
    return finish(await this.run(q, { months: [], days: [], hours: [], tenMinutes: [], raw: [{ from: q.from, to: q.to, sign: 1 }] }));
  }

  /**
   * The report computed along a given plan, its raw parts scanned as `scan` says (every plan and every scan of the
   * range give the same answer; tests compare them).
   */
  async reportAlong(q: EnergyReportQuery, plan: EnergyRangePlan, scan: RawScanOptions = {}): Promise<EnergyGroupRow[]> {
    return finish(await this.run(q, plan, scan));
  }

  /**
   * The report along `plan` in one statement; or, with `alongside` (report() in its snapshot, exported), as two
   * statements at once when the plan has both raw and rollup parts and the pool can spare a second connection: the
   * rollup rows on this connection, the raw part on the second one in the same snapshot (SET TRANSACTION SNAPSHOT),
   * and their group totals added here (the raw statement lists only the groups it has figures for: ~250 of 1,000
   * vehicles have raw samples in the benchmark's partial ends). On the 2-core machine of 27 Nov the two ran on both
   * cores: p50 / p95 41.6 / 50.4 ms for the one statement against 29.8 / 34.2 ms for the two (the benchmark's 1,000
   * vehicles × 30 days, the five starts, 100 runs in turn); on another machine of the same kind, report() gave the same
   * p50 either way and p95 within ±5 ms; in the evening (a machine of the same kind again) 24.9 / 41.1 ms against
   * 42.3 / 51.3 ms for one statement (40 calls each in turn; bench/README.md). Not for group_by=day, whose vehicle
   * count per day is decided over all parts at once.
   */
  private async run(q: EnergyReportQuery, plan: EnergyRangePlan, scan: RawScanOptions = {}, alongside?: { root: Kysely<DB>; snapshot: string }): Promise<EnergyGroupRow[]> {
    if (q.groupBy === 'day' && plan.months.length > 0) throw new RangeError('energy report: group_by=day takes no month rows (a month is not a day)');
    const rollupsOnly: EnergyRangePlan = { ...plan, raw: [] };
    const hasRollups = plan.months.length + plan.days.length + plan.hours.length + plan.tenMinutes.length > 0;
    const pool = alongside && q.groupBy !== 'day' && plan.raw.length > 0 && hasRollups ? poolOf(alongside.root) : undefined;
    const release = pool ? claimSecondConnection(pool) : undefined;
    if (!release) return this.resolved(q, plan, scan, 'final');
    try {
      const rawOnly: EnergyRangePlan = { months: [], days: [], hours: [], tenMinutes: [], raw: plan.raw };
      let rawStarted = false;
      // Both settled before this transaction ends: the other one imports its snapshot.
      const [rollups, raw] = await Promise.allSettled([
        this.resolved(q, rollupsOnly, scan, 'every group'),
        alongside!.root
          .transaction()
          .setIsolationLevel('repeatable read')
          .setAccessMode('read only')
          .execute(async (trx) => {
            await sql`SET TRANSACTION SNAPSHOT ${sql.lit(alongside!.snapshot)}`.execute(trx);
            rawStarted = true;
            return new EnergyReportRepository(trx).resolved(q, rawOnly, scan, 'groups with figures');
          }),
      ]);
      if (rollups.status === 'rejected') throw rollups.reason;
      if (raw.status === 'fulfilled') return addGroupTotals(rollups.value, raw.value);
      // No second connection after all (the server's connection limit, say), or no snapshot on it: the raw part on
      // this connection, in the same snapshot. A failure of the raw statement itself is the report's.
      if (rawStarted) throw raw.reason;
      return addGroupTotals(rollups.value, await this.resolved(q, rawOnly, scan, 'groups with figures'));
    } finally {
      release();
    }
  }

  /**
   * The rows of one statement: first with predecessors looked up at most PREDECESSOR_HORIZON back; again without that
   * bound when a vehicle had samples in a raw part but no sample that recent before it (see rawIncreases). `totals`:
   * 'final', a total within 1e-9 of zero is 0; otherwise the totals as summed, for adding to another part's (see
   * run()), of every group or only of the groups with figures (not for group_by=day, whose groups are those anyway).
   */
  private async resolved(q: EnergyReportQuery, plan: EnergyRangePlan, scan: RawScanOptions, totals: Totals): Promise<EnergyGroupRow[]> {
    const first = await this.runOnce(q, plan, false, scan, totals);
    return first.unresolved > 0 ? (await this.runOnce(q, plan, true, scan, totals)).groups : first.groups;
  }

  private async runOnce(
    q: EnergyReportQuery,
    plan: EnergyRangePlan,
    unbounded: boolean,
    scan: RawScanOptions,
    totals: Totals,
  ): Promise<StatementResult> {
    const byDay = q.groupBy === 'day';
    const partial = totals !== 'final';
    // Each part summed per vehicle, and per UTC day for group_by=day (t = the day; otherwise NULL, one row per
    // vehicle); for group_by=day also its samples (n), which decide whether the vehicle has a figure that day once
    // subtracted parts are taken off.
    const summed = (source: RawBuilder<unknown>, time: RawBuilder<unknown>, sum: (column: RawBuilder<unknown>) => RawBuilder<unknown>, samples: RawBuilder<unknown>, where: RawBuilder<unknown>) => {
      const sums = sql.join(ENERGY_COUNTERS.map((c) => sql`${sum(sql.ref(`r.${c.column}`))} AS ${sql.ref(c.column)}`));
      return sql`
        SELECT r.vehicle_id, ${byDay ? sql`date_trunc('day', ${time}, 'UTC')` : sql`NULL::timestamptz`} AS t, ${sums}${byDay ? sql`, ${samples} AS n` : sql``}
        FROM ${source} r WHERE ${where} GROUP BY 1, 2`;
    };
    // The rollup rows of every range in one part: one semi-join with the tenant's vehicles and one aggregate for all of
    // them. A semi-join and an aggregate per range cost ~10 ms more on the ~10,000 rollup rows of a 30-day report at
    // 1,000 vehicles (psql, in turn), 1–5 ms of p50 on the whole report (side by side in one process). A subtracted
    // range's branch negates its values (and samples): a sign column multiplied in the aggregate cost ~2.5 ms more of a
    // ~25 ms statement (psql, 9 pairs in turn). The start of each row's day only for group_by=day. One branch per
    // range with its bounds as literals (see rawIncreases).
    const rollupRows: RawBuilder<unknown>[] = [];
    const rowsOf = (table: RawBuilder<unknown>, start: RawBuilder<unknown>, where: RawBuilder<unknown>, sign: 1 | -1) => {
      const bySign = (column: RawBuilder<unknown>) => (sign === 1 ? column : sql`-${column}`);
      const values = sql.join(ENERGY_COUNTERS.map((c) => sql`${bySign(sql.ref(`r.${c.column}`))} AS ${sql.ref(c.column)}`));
      rollupRows.push(sql`
        SELECT r.vehicle_id, ${values}${byDay ? sql`, ${start} AS tm, ${bySign(sql`r.samples`)} AS samples` : sql``}
        FROM ${table} r WHERE ${where}`);
    };
    // energy_daily and energy_monthly hold the hours before the rollup's watermark (migrations 2026_11_27_140000,
    // 2026_11_29_100000): the hours of a day or month range from the watermark on come from energy_hourly, in the same
    // statement (one snapshot with the watermark).
    const watermark = sql`(SELECT COALESCE(max(w.hour), '-infinity') FROM energy_daily_watermark w)`;
    const rollups = [
      { table: sql`energy_monthly`, start: sql`r.month`, ranges: plan.months },
      { table: sql`energy_daily`, start: sql`r.day`, ranges: plan.days },
    ];
    for (const { table, start, ranges } of rollups) {
      for (const x of ranges) {
        rowsOf(table, start, sql`${within(start, x)} AND r.hours > 0`, x.sign);
        rowsOf(sql`energy_hourly`, sql`r.hour`, sql`${within(sql`r.hour`, x)} AND r.hour >= ${watermark}`, x.sign);
      }
    }
    for (const h of plan.hours) rowsOf(sql`energy_hourly`, sql`r.hour`, within(sql`r.hour`, h), h.sign);
    for (const b of plan.tenMinutes) rowsOf(sql`energy_10min`, sql`r.bucket`, within(sql`r.bucket`, b), b.sign);
    const parts: RawBuilder<unknown>[] = [];
    if (rollupRows.length > 0) {
      parts.push(
        summed(sql`(${sql.join(rollupRows, sql` UNION ALL `)})`, sql`r.tm`, (c) => sql`sum(${c})`, sql`sum(r.samples)::bigint`, sql`r.vehicle_id IN (SELECT id FROM veh)`),
      );
    }
    // The raw pairs (tenant's vehicles only) come signed, one row per sample (sg = its sign).
    const raw = plan.raw.length > 0 ? rawIncreases(plan.raw, q.stepLimits, unbounded, scan) : undefined;
    if (raw) parts.push(summed(sql`(${raw.select})`, sql`r.t`, (c) => sql`sum(${c})`, sql`sum(r.sg)`, sql`true`));

    const key = groupKey(q.groupBy);
    // A total within 1e-9 of zero is zero: a part subtracted from a rollup row leaves float noise (≈1e-15) where the
    // pairs inside the range add nothing, and a derived ratio must see 0 there, as over raw rows.
    const sums = sql.join(
      ENERGY_COUNTERS.map((c) => {
        const total = sql`coalesce(sum(x.${sql.ref(c.column)}), 0)::float8`;
        return partial ? sql`${total} AS ${sql.ref(c.column)}` : sql`CASE WHEN abs(${total}) < 1e-9 THEN 0::float8 ELSE ${total} END AS ${sql.ref(c.column)}`;
      }),
    );
    const union =
      parts.length > 0
        ? sql.join(parts, sql` UNION ALL `)
        : sql`SELECT NULL::text AS vehicle_id, NULL::timestamptz AS t, ${sql.join(ENERGY_COUNTERS.map((c) => sql`NULL::float8 AS ${sql.ref(c.column)}`))}${byDay ? sql`, NULL::bigint AS n` : sql``} WHERE false`;
    // Day groups come only from figures; every other grouping lists all vehicles of the tenant (zeros included), except
    // a part whose totals go to another part's that lists them (see run()).
    const join = byDay || totals === 'groups with figures' ? sql`JOIN x ON x.vehicle_id = veh.id` : sql`LEFT JOIN x ON x.vehicle_id = veh.id`;
    // x holds one row per vehicle (and day): count(*) counts the group's vehicles. A vehicle has a figure on a day
    // when it has samples in the range that day (as over raw rows: one row per sample).
    // No ORDER BY: run() sorts the groups by key. Sorting them here, in the database's collation, made the planner
    // merge-join the vehicles in that order: 20.5 against 18.6 ms per statement (pgbench, the two statements in
    // random turn, 120 runs, the benchmark's 1,000 vehicles × 30 days).
    // The groups come as ONE json value (node-pg JSON.parses it): the objects of the answer's rows and nothing else.
    // As rows, node-pg made a string per field, a number from it, a message object and a row object per group, and
    // the rows were copied twice more (adding the two statements' totals, dropping this column): the energy API
    // allocated 4.2 MB per fleet-wide request, now 3.0 MB (sampling heap profile, 60 requests), and its p50 / p95
    // went from 37.9–44.4 / 57.0–72.7 to 31.5–41.1 / 51.1–64.9 ms in six alternating pairs on the benchmark's data
    // (young-generation collections during a request are its p95 tail; bench/README.md). A float8 is written in JSON
    // as in a row's text (float8out, shortest exact digits), so the numbers are the same. The vehicles whose
    // predecessor was not found within the bound (0 without raw parts or when unbounded) are one figure for the
    // statement.
    const { rows } = await sql<StatementResult>`
      WITH veh AS MATERIALIZED (SELECT id, type, body_type, powertrain FROM vehicles WHERE tenant_id = ${q.tenantId}),
      ${raw ? sql`${raw.ctes},` : sql``}
      parts AS (${union}),
      x AS (SELECT p.vehicle_id, p.t, ${sumsOf('p')} FROM parts p GROUP BY 1, 2${byDay ? sql` HAVING sum(p.n) > 0` : sql``}),
      g AS (
        SELECT ${key} AS key, count(*)::int AS vehicles, ${sums}
        FROM veh ${join}
        GROUP BY 1)
      SELECT (SELECT coalesce(json_agg(g), '[]'::json) FROM g) AS groups, ${raw ? raw.unresolved : sql`0`}::int AS unresolved`.execute(this.db);
    const result = rows[0];
    if (!result || !Array.isArray(result.groups)) throw new Error('energy report: the statement gave no list of groups');
    return result;
  }
}

/** What one statement gives: its groups, and how many vehicles' predecessors it did not find (see rawIncreases). */
interface StatementResult {
  groups: EnergyGroupRow[];
  unresolved: number;
}

/** How a statement's totals are given (see resolved()). */
type Totals = 'final' | 'every group' | 'groups with figures';

/** Reports that have taken (or are taking) a second connection of each pool (see claimSecondConnection). */
const splitsInProgress = new WeakMap<pg.Pool, number>();

/**
 * Whether a report may take a second connection of `pool` (it holds one already): only while nobody waits for one,
 * the pool has one idle or room for a new one, and fewer than max / 4 reports have taken a second one (so they hold
 * at most half the pool). So at least one connection is never held by a report waiting for another and the pool
 * cannot deadlock, and a pool shared with ingestion (embedded mode) keeps at least half of its connections for the
 * rest. Returns the release, or undefined (then the report runs as one statement on its connection): the second
 * connection is for a quiet system's latency, and on a busy one the other requests use the cores anyway.
 */
function claimSecondConnection(pool: pg.Pool): (() => void) | undefined {
  const max = pool.options.max ?? 10;
  const active = splitsInProgress.get(pool) ?? 0;
  if (active >= Math.floor(max / 4) || pool.waitingCount > 0 || (pool.idleCount === 0 && pool.totalCount >= max)) return undefined;
  splitsInProgress.set(pool, active + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    splitsInProgress.set(pool, (splitsInProgress.get(pool) ?? 1) - 1);
  };
}

/**
 * The group totals of two statements added into `all`'s rows: `all` lists every group (every grouping but day lists
 * all of the tenant's vehicles), `some` the groups it has figures for. Then a total within 1e-9 of zero is 0, as
 * runOnce does for one statement. The vehicle counts are `all`'s.
 */
function addGroupTotals(all: EnergyGroupRow[], some: EnergyGroupRow[]): EnergyGroupRow[] {
  const byKey = new Map<string, EnergyGroupRow>();
  for (const o of some) {
    if (byKey.has(o.key)) throw new Error('energy report: a part lists a group twice');
    byKey.set(o.key, o);
  }
  // The columns one by one: a loop over ENERGY_COUNTERS, reading and writing each row by a variable key, took 0.3–0.6
  // ms against 0.04–0.07 ms for 1,000 + 250 rows made by JSON.parse (a throwaway loop, Node 24).
  const total = (x: number, y: number): number => {
    const t = x + y;
    return Math.abs(t) < 1e-9 ? 0 : t;
  };
  let matched = 0;
  for (const r of all) {
    const o = byKey.get(r.key);
    if (o) matched++;
    r.distance_km = total(r.distance_km, o ? o.distance_km : 0);
    r.traction_kwh = total(r.traction_kwh, o ? o.traction_kwh : 0);
    r.body_kwh = total(r.body_kwh, o ? o.body_kwh : 0);
    r.regen_kwh = total(r.regen_kwh, o ? o.regen_kwh : 0);
    r.charged_kwh = total(r.charged_kwh, o ? o.charged_kwh : 0);
    r.h2_kg = total(r.h2_kg, o ? o.h2_kg : 0);
    r.fuel_l = total(r.fuel_l, o ? o.fuel_l : 0);
    r.engine_hours = total(r.engine_hours, o ? o.engine_hours : 0);
    r.body_hours = total(r.body_hours, o ? o.body_hours : 0);
  }
  if (matched !== some.length) throw new Error(`energy report: ${some.length - matched} group(s) of one part missing from the other`);
  return all;
}

/** The answer's rows, in key order. */
function finish(rows: EnergyGroupRow[]): EnergyGroupRow[] {
  return rows.sort(compareGroupKeys);
}

/**
 * Increases from raw rows for pairs whose later sample lies in one of the intervals, times the interval's sign: the
 * samples inside each interval and those of a short lookback before its start (the last of them is a vehicle's
 * predecessor), chained with lag() in (ts, seq) order; one row per sample inside (sg = the sign). Returns the CTEs
 * (they go in the statement's WITH), the SELECT of the increases, and the count of vehicles whose predecessor was not
 * looked for far enough back (unresolved).
 *
 * The sample before an interval is found in the same scan as the samples inside: it starts a lookback (lookbackFor,
 * up to PREDECESSOR_LOOKBACK) before the interval (one scan of the chunk instead of two: ~9 ms of a 113 ms report at
 * 1,000 vehicles, EXPLAIN ANALYZE; an interval in the future costs one empty scan); a vehicle with samples inside but
 * none in the lookback is looked up through the primary key, first within PREDECESSOR_HORIZON: a lookup of telemetry
 * before a time with no lower bound makes TimescaleDB plan a scan of every chunk before it — 12 ms of planning per
 * report on 121 chunks (30 days of 6-hour chunks), for a lookup that is rarely executed. A vehicle without a sample in
 * that horizon (first samples ever, or back after a longer gap) counts as unresolved, and run() computes the report
 * again with the unbounded lookup. One lookup per vehicle for every report (instead of the lookback scan) cost
 * 20–35 µs on TimescaleDB, 40–100 ms for 1,000 vehicles at both ends.
 *
 * An interval from `storedUntil` on (report() leaves it out when the tenant's newest sample bounds it, see
 * withoutPartsFrom; otherwise it lies after the clock) is scanned without the lookback: it is expected to hold no
 * samples, so no predecessor is needed, and a vehicle that has samples there after all (stamped ahead) finds its
 * predecessor through the lookup above. The lookback's rows cost 7–10 ms of a ~85 ms report at 1,000 vehicles (their
 * scan, sort and window; p50 of 20 interleaved runs each way). At one sample a second a 5-minute lookback is 300,000 rows for
 * 1,000 vehicles, and the raw part of a 5-minute partial took 2.6–3.8 s with it; the rate-based lookback keeps it to
 * ~10 rows per vehicle.
 */
function rawIncreases(
  intervals: readonly SignedRange[],
  limits: Readonly<Record<EnergyReportColumn, EnergyStepLimit>>,
  unbounded: boolean,
  how: RawScanOptions,
): { ctes: RawBuilder<unknown>; select: RawBuilder<unknown>; unresolved: RawBuilder<unknown> } {
  const counters = (alias: string) => sql.join(ENERGY_COUNTERS.map((c) => sql.ref(`${alias}.${c.counter}`)));
  // Same arithmetic as stepIncrease(): elapsed hours = milliseconds / 3 600 000 in double precision, computed once
  // per pair. The milliseconds come from date_part (double) rounded, exact for the millisecond timestamps ingestion
  // stores: extract() computes in numeric, 5.1 against 1.5 ms per 7,000 pairs (measured in psql). Each counter's step
  // `later − earlier` once per pair. The earlier sample's counters come from one lag() of an array (prev[1..9])
  // rather than nine lag() calls: ~8 % of the raw part's time.
  const prev = sql`lag(ARRAY[${sql.join(ENERGY_COUNTERS.map((c) => sql.ref(c.counter)))}]) OVER w AS prev`;
  const steps = sql.join(
    ENERGY_COUNTERS.map((c, k) => {
      const d = sql`(${sql.ref(c.counter)} - prev[${sql.raw(String(k + 1))}])`;
      const limit = limits[c.column];
      const step = sql`CASE WHEN ${d} > 0 AND ${d} <= ${limit.maxPerHour}::float8 * dh + ${limit.slack}::float8 THEN ${d} ELSE 0 END`;
      return sql`${step} * sg AS ${sql.ref(c.column)}`;
    }),
  );
  // One scan per interval with its bounds as literals in the WHERE clause: a join against a VALUES list hides them
  // from the planner, which then scans all of telemetry (no chunk exclusion, no index range).
  const ctes = intervals.map((i, n) => {
    const [scan, lone] = [sql.ref(`scan${n}`), sql.ref(`lone${n}`)];
    const start = sql`${i.from.toISOString()}::timestamptz`;
    const bound = unbounded ? sql`` : sql` AND tp.ts >= ${new Date(i.from.getTime() - PREDECESSOR_HORIZON_MS).toISOString()}::timestamptz`;
    const lookback =
      how.storedUntil && i.from >= how.storedUntil
        ? 0
        : (how.lookbackMs ?? lookbackAlong(i.to.getTime() - i.from.getTime(), lookbackFor(how.samplesPerHour?.get(floorTo(i.from.getTime(), HOUR_MS)))));
    // One scan from the lookback before the interval to its end: its rows before the start chain the first
    // samples inside to their predecessors (a vehicle with rows before the start only adds nothing, see `ts >= a`).
    return sql`${scan} AS MATERIALIZED (
        SELECT t.vehicle_id, t.ts, t.seq, ${counters('t')}
        FROM telemetry t
        WHERE ${within(sql`t.ts`, { from: new Date(i.from.getTime() - lookback), to: i.to })} AND t.vehicle_id IN (SELECT id FROM veh)
      ),
      ${lone} AS MATERIALIZED (
        SELECT l.vehicle_id, p.ts, p.seq, ${counters('p')}
        FROM (SELECT s.vehicle_id FROM ${scan} s GROUP BY s.vehicle_id HAVING min(s.ts) >= ${start}) l
        LEFT JOIN LATERAL (
          SELECT * FROM telemetry tp WHERE tp.vehicle_id = l.vehicle_id AND tp.ts < ${start}${bound} ORDER BY tp.ts DESC, tp.seq DESC LIMIT 1
        ) p ON true
      )`;
  });
  const branches = intervals.map((i, n) => {
    const [scan, lone] = [sql.ref(`scan${n}`), sql.ref(`lone${n}`)];
    const head = sql`${n}::int AS k, ${i.from.toISOString()}::timestamptz AS a, ${i.sign}::int AS sg`;
    return sql`
        SELECT vehicle_id, ts, seq, ${head}, ${counters(`scan${n}`)} FROM ${scan}
        UNION ALL
        SELECT vehicle_id, ts, seq, ${head}, ${counters(`lone${n}`)} FROM ${lone} WHERE ts IS NOT NULL`;
  });
  // Unbounded, a vehicle without a predecessor has none at all: its first sample adds nothing, as in ingestion.
  const unresolved = unbounded
    ? sql`0`
    : sql`(SELECT count(*) FROM (${sql.join(
        intervals.map((_, n) => sql`SELECT 1 FROM ${sql.ref(`lone${n}`)} WHERE ts IS NULL`),
        sql` UNION ALL `,
      )}) u)`;

  const select = sql`
    SELECT vehicle_id, ts AS t, sg, ${steps}
    FROM (
      SELECT vehicle_id, ts, a, sg, ${sql.join(ENERGY_COUNTERS.map((c) => sql.ref(c.counter)))},
        (greatest(0, round(date_part('epoch', ts - lag(ts) OVER w) * 1000)) / 3600000::float8) AS dh, ${prev}
      FROM (${sql.join(branches, sql` UNION ALL `)}) u
      -- One chain per vehicle and interval (k: two intervals may start at the same time). Byte order for the
      -- partitions: they only need equal ids together, and the database's collation (strcoll, no abbreviated keys)
      -- made this sort of ~16k rows several times slower.
      WINDOW w AS (PARTITION BY vehicle_id COLLATE "C", k ORDER BY ts, seq)
    ) chained
    WHERE ts >= a`;
  return { ctes: sql.join(ctes), select, unresolved };
}

/** specfleet_meta.energy_10min_since: '-infinity' (every bucket row), an ISO time, or absent (no bucket rows). */
function parseSince(value: string | null): Date | undefined {
  if (value === null) return undefined;
  if (value === '-infinity') return new Date(-8.64e15);
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? undefined : at;
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
