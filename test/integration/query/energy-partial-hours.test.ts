// EnergyReportRepository: a partial hour (or day) taken as its rollup row minus the raw pairs of its part outside the
// range equals the same figures over raw rows alone (reportFromRaw), for every group_by — ranges ending inside an
// hour with later samples in it and without, a counter reset and an implausible jump right at the boundary, a gap
// across it, a vehicle whose first sample ever lies in the subtracted part, one back after a gap longer than the
// bounded predecessor lookup, and the plan of a range ending now (the part after `to` empty); partial hours through
// 10-minute bucket rows (energy_10min) too, only where they are complete. energy_hourly and energy_10min hold what
// ingestion's reference rule gives (with the samples of each hour and bucket), energy_daily follows energy_hourly
// through its triggers, energy_monthly follows energy_daily through its own.
import { type KyselyPlugin, sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ENERGY_COLUMNS, STEP_LIMITS, hourlyIncreases, type CounterSample } from '../../../apps/ingestion/src/energy/energy-increase.js';
import {
  type EnergyGroupRow,
  type EnergyRangePlan,
  EnergyReportRepository,
  planEnergyRange,
  type SignedRange,
  withoutPartsFrom,
} from '../../../libs/db/src/repositories/energy-report.repository.js';
import type pg from 'pg';
import { createDatabase, EnergyDailyRepository, type NewEnergyHourlyRow, type NewTelemetryRow, poolOf } from '../../../libs/db/src/index.js';
import { describeEachBackend } from '../../setup/database.js';
import { type QueryHarness, referenceBuckets, seedTelemetry, seedVehicle, startQueryHarness } from './harness.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const at = (iso: string) => Date.parse(iso);
const GROUPS = ['vehicle', 'type', 'body_type', 'powertrain', 'day'] as const;

interface Series {
  id: string;
  samples: Array<{ tsMs: number; odo: number | null; kwh: number; fuel: number | null }>;
}

/** Samples every `everyMin` minutes over [start, end), with the edits `edit` makes (skip a sample: return null). */
function series(id: string, start: number, end: number, everyMin: number, edit: (tsMs: number, i: number, s: { odo: number; kwh: number; fuel: number }) => Series['samples'][number] | null): Series {
  const out: Series['samples'] = [];
  const s = { odo: 1000, kwh: 500, fuel: 80 };
  for (let i = 0, tsMs = start; tsMs < end; i++, tsMs += everyMin * MIN) {
    s.odo += 0.9 + (i % 3) * 0.35;
    s.kwh += 1.3 + (i % 5) * 0.21;
    s.fuel += 0.17;
    const row = edit(tsMs, i, s);
    if (row) out.push(row);
  }
  return { id, samples: out };
}

describeEachBackend('energy report: partial hours as rollup rows minus their outside part', (backend) => {
  let h: QueryHarness;
  let repo: EnergyReportRepository;
  const T = '2026-11-16T';
  beforeAll(async () => {
    h = await startQueryHarness(backend);
    repo = new EnergyReportRepository(h.database.db);
    await seedVehicle(h.database, { id: 'P-1', type: 'road_sweeper', bodyType: 'sweeper', powertrain: 'bev' });
    await seedVehicle(h.database, { id: 'P-2', type: 'garbage_compactor', bodyType: 'compactor', powertrain: 'ice' });
    await seedVehicle(h.database, { id: 'P-3', type: 'road_sweeper', bodyType: 'sweeper', powertrain: 'phev' });
    await seedVehicle(h.database, { id: 'P-4', type: 'garbage_compactor', bodyType: 'compactor', powertrain: 'phev' });
    await seedVehicle(h.database, { id: 'P-5', type: 'delivery_van', bodyType: 'none', powertrain: 'bev' });
    const all: Series[] = [
      // Every 7 min for two days: a traction reset at 10:47 and an implausible jump at 13:46 (back down at 13:53),
      // the odometer missing at 10:54, offline 15:40–17:20 (a gap across 16:00 and 17:00).
      series('P-1', at(`${T}06:03:00Z`), at('2026-11-18T08:00:00Z'), 7, (tsMs, _i, s) => {
        if (tsMs > at(`${T}15:40:00Z`) && tsMs < at(`${T}17:20:00Z`)) return null;
        if (tsMs === at(`${T}10:47:00Z`)) s.kwh = 3;
        const glitch = tsMs === at(`${T}13:46:00Z`) ? 100_000 : 0;
        return { tsMs, odo: tsMs === at(`${T}10:54:00Z`) ? null : s.odo, kwh: s.kwh + glitch, fuel: null };
      }),
      // Every 13 min, stops for good at 12:25 on the first day (later samples absent for the ranges ending after it).
      series('P-2', at(`${T}05:58:00Z`), at(`${T}12:30:00Z`), 13, (tsMs, _i, s) => ({ tsMs, odo: s.odo, kwh: 0, fuel: s.fuel })),
      // First sample ever at 10:04 (no predecessor: its first pair adds nothing), every 5 min after.
      series('P-3', at(`${T}10:04:00Z`), at('2026-11-17T20:00:00Z'), 5, (tsMs, _i, s) => ({ tsMs, odo: s.odo, kwh: s.kwh, fuel: s.fuel })),
      // Two samples on the 13th, then back on the 16th at 10:02 (its predecessor is 3 days back), every 11 min.
      {
        id: 'P-4',
        samples: [
          { tsMs: at('2026-11-13T09:00:00Z'), odo: 10, kwh: 10, fuel: 10 },
          { tsMs: at('2026-11-13T09:30:00Z'), odo: 12, kwh: 11, fuel: 11 },
          ...series('P-4', at(`${T}10:02:00Z`), at('2026-11-17T03:00:00Z'), 11, (tsMs, _i, s) => ({ tsMs, odo: s.odo - 900, kwh: s.kwh - 450, fuel: s.fuel - 60 })).samples,
        ],
      },
    ];
    const rows: NewTelemetryRow[] = [];
    const hourly: NewEnergyHourlyRow[] = [];
    for (const { id, samples } of all) {
      const counter: CounterSample[] = samples.map((s, seq) => ({ tsMs: s.tsMs, seq, counters: { distance_km: s.odo ?? undefined, traction_kwh: s.kwh, fuel_l: s.fuel ?? undefined } }));
      samples.forEach((s, seq) => rows.push({ vehicle_id: id, ts: new Date(s.tsMs), seq, odometer_km: s.odo, traction_kwh: s.kwh, fuel_used_l: s.fuel }));
      const increases = hourlyIncreases(counter);
      const perHour = new Map<number, number>();
      for (const s of samples) perHour.set(Math.floor(s.tsMs / HOUR) * HOUR, (perHour.get(Math.floor(s.tsMs / HOUR) * HOUR) ?? 0) + 1);
      for (const [hour, n] of perHour) hourly.push({ vehicle_id: id, hour: new Date(hour), samples: n, ...(increases.get(hour) ?? {}) });
    }
    await seedTelemetry(h.database, rows);
    await h.database.db.insertInto('energy_hourly').values(hourly).execute();
    await h.database.db.insertInto('energy_10min').values(referenceBuckets(rows)).execute();
  });
  afterAll(async () => h?.close());

  function expectSame(got: EnergyGroupRow[], want: EnergyGroupRow[], label: string): void {
    expect(got.map((g) => [g.key, g.vehicles]), label).toEqual(want.map((g) => [g.key, g.vehicles]));
    got.forEach((g, i) => {
      for (const c of ENERGY_COLUMNS) expect(g[c], `${label} ${g.key} ${c}`).toBeCloseTo(want[i]![c], 9);
    });
  }
  const subtracts = (plan: EnergyRangePlan) => plan.raw.some((r) => r.sign === -1);
  const LATER = new Date('2030-01-01T00:00:00Z');

  /**
   * The plan with each day part as its month's row (energy_monthly, which follows energy_daily) minus the month's
   * other days.
   */
  const viaMonth = (plan: EnergyRangePlan): EnergyRangePlan => {
    const months: SignedRange[] = [];
    const days: SignedRange[] = [];
    for (const d of plan.days) {
      const m0 = new Date(Date.UTC(d.from.getUTCFullYear(), d.from.getUTCMonth(), 1));
      const m1 = new Date(Date.UTC(d.from.getUTCFullYear(), d.from.getUTCMonth() + 1, 1));
      expect(d.to.getTime(), 'a day part inside one month').toBeLessThanOrEqual(m1.getTime());
      const other = d.sign === 1 ? -1 : 1;
      months.push({ from: m0, to: m1, sign: d.sign });
      if (m0 < d.from) days.push({ from: m0, to: d.from, sign: other });
      if (d.to < m1) days.push({ from: d.to, to: m1, sign: other });
    }
    return { ...plan, months, days };
  };

  // [from, to, what the partial ends show]
  const RANGES = [
    [`${T}09:20:00Z`, `${T}10:50:00Z`, 'to at :50 with later samples in the hour (P-1 reset at 10:47 inside, P-3 first samples), from at :20'],
    [`${T}10:10:00Z`, `${T}10:48:00Z`, 'inside one hour: the hour minus both ends; to right after the reset'],
    [`${T}10:05:00Z`, `${T}13:50:00Z`, 'to right after the jump at 13:46, its way back at 13:53 outside; P-2 stopped at 12:25 (no later samples)'],
    [`${T}11:02:00Z`, `${T}16:55:00Z`, 'to inside the gap 15:40–17:20 (nothing after it in the hour)'],
    [`${T}12:40:00Z`, '2026-11-17T21:45:00Z', 'whole days, partial days from the day row minus hours, partial hours minus their outside part'],
    ['2026-11-16T00:00:00Z', '2026-11-17T23:52:00Z', 'from a day boundary; to at :52 of a partial day taken as its day row minus the rest'],
  ] as const;

  it('equals the computation over raw rows for every range and grouping, along the chosen plan', async () => {
    for (const [from, to, what] of RANGES) {
      expect(subtracts(planEnergyRange(new Date(from), new Date(to), LATER)), `${what}: the plan subtracts a raw part`).toBe(true);
      for (const groupBy of GROUPS) {
        const q = { tenantId: 'acme', from: new Date(from), to: new Date(to), groupBy, stepLimits: STEP_LIMITS };
        const raw = await repo.reportFromRaw(q);
        expectSame(await repo.report(q), raw, `${what} / ${groupBy}`);
        const plan = planEnergyRange(q.from, q.to, LATER, { months: groupBy !== 'day' });
        expectSame(await repo.reportAlong(q, plan), raw, `${what} / ${groupBy} (clock later)`);
        // The lookback only saves predecessor lookups: a short one (the rate-based choice for vehicles sending every
        // few seconds) and none at all give the same figures.
        expectSame(await repo.reportAlong(q, plan, { lookbackMs: 60_000 }), raw, `${what} / ${groupBy} (1-minute lookback)`);
        expectSame(await repo.reportAlong(q, plan, { lookbackMs: 0 }), raw, `${what} / ${groupBy} (no lookback)`);
      }
    }
  });

  it('equals it along plans through 10-minute bucket rows, added and subtracted, off the bucket grid too', async () => {
    const ALWAYS = { tenMinutesSince: new Date('2026-01-01T00:00:00Z') };
    let added = 0;
    let subtracted = 0;
    for (const [from, to, what] of [
      ...RANGES,
      [`${T}10:13:30Z`, `${T}13:47:10Z`, 'off the grid: P-1 reset at 10:47 and jump at 13:46 in bucket rows, raw 10:10–10:13:30 subtracted'],
      [`${T}10:04:00Z`, `${T}10:44:59.5Z`, 'inside one hour: P-3 first sample ever in the subtracted raw part'],
      [`${T}15:47:00Z`, `${T}17:23:00Z`, 'across P-1 offline 15:40–17:20: empty buckets'],
    ] as const) {
      for (const groupBy of GROUPS) {
        const q = { tenantId: 'acme', from: new Date(from), to: new Date(to), groupBy, stepLimits: STEP_LIMITS };
        const plan = planEnergyRange(q.from, q.to, LATER, { months: groupBy !== 'day', ...ALWAYS });
        added += plan.tenMinutes.filter((r) => r.sign === 1).length;
        subtracted += plan.tenMinutes.filter((r) => r.sign === -1).length;
        expect(plan.raw.every((r) => r.to.getTime() - r.from.getTime() <= 5 * MIN), `${what}: raw parts of at most 5 minutes`).toBe(true);
        expectSame(await repo.reportAlong(q, plan), await repo.reportFromRaw(q), `${what} / ${groupBy} (through buckets)`);
      }
    }
    expect(added).toBeGreaterThan(0);
    expect(subtracted).toBeGreaterThan(0);
  });

  it('reads no bucket rows from before the time they are complete from (specfleet_meta.energy_10min_since)', async () => {
    // As on a deployment migrated at 11:00 with telemetry already stored: the bucket rows before 13:00 were never
    // written (here: wrong). report() must take the start of the range from raw rows and hours, the end from buckets.
    const q = { tenantId: 'acme', from: new Date(`${T}10:13:30Z`), to: new Date(`${T}13:47:10Z`), groupBy: 'vehicle' as const, stepLimits: STEP_LIMITS };
    const raw = await repo.reportFromRaw(q);
    const since = async (value: string) => sql`UPDATE specfleet_meta SET value = ${value} WHERE key = 'energy_10min_since'`.execute(h.database.db);
    await sql`UPDATE energy_10min SET traction_kwh = traction_kwh + 1000, distance_km = distance_km + 1000 WHERE bucket < ${`${T}13:00:00Z`}`.execute(h.database.db);
    try {
      const p1 = (rows: EnergyGroupRow[]) => rows.find((g) => g.key === 'P-1')!.traction_kwh;
      expect(Math.abs(p1(await repo.report(q)) - p1(raw)), 'the wrong rows are read without the bound').toBeGreaterThan(500);
      await since(`${T}13:00:00Z`);
      expectSame(await repo.report(q), raw, 'bucket rows from 13:00 on only');
      // Without the record (a database the migration did not reach), no bucket rows at all.
      await sql`DELETE FROM specfleet_meta WHERE key = 'energy_10min_since'`.execute(h.database.db);
      expectSame(await repo.report(q), raw, 'no bucket rows');
    } finally {
      await sql`UPDATE energy_10min SET traction_kwh = traction_kwh - 1000, distance_km = distance_km - 1000 WHERE bucket < ${`${T}13:00:00Z`}`.execute(h.database.db);
      await sql`INSERT INTO specfleet_meta (key, value) VALUES ('energy_10min_since', '-infinity') ON CONFLICT (key) DO UPDATE SET value = excluded.value`.execute(h.database.db);
    }
    expectSame(await repo.report(q), raw, 'restored');
  });

  it('equals it along the plan of a range ending now: the current hour and day from their rollup rows, minus nothing stored', async () => {
    for (const [from, to] of [
      [`${T}08:20:00Z`, `${T}10:50:00Z`],
      [`${T}07:41:00Z`, '2026-11-17T14:22:00Z'],
      [`${T}11:02:00Z`, `${T}16:55:00Z`],
    ] as const) {
      // Planned as if `to` were now: the parts after `to` are subtracted as they cost nothing (none stored — here
      // some are, which the subtraction must then take off exactly).
      const plan = planEnergyRange(new Date(from), new Date(to), new Date(to), { months: false });
      expect(plan.raw.some((r) => r.sign === -1 && r.from.getTime() === Date.parse(to)), `${to}: the part after \`to\` is subtracted`).toBe(true);
      for (const groupBy of GROUPS) {
        const q = { tenantId: 'acme', from: new Date(from), to: new Date(to), groupBy, stepLimits: STEP_LIMITS };
        const raw = await repo.reportFromRaw(q);
        expectSame(await repo.reportAlong(q, plan), raw, `${from}…${to} / ${groupBy}`);
        // As report() runs it when the tenant's newest sample is older than `to`: the part after `to` scanned without
        // its lookback, the predecessors of its samples (some are stored here) found by lookup.
        expectSame(await repo.reportAlong(q, plan, { storedUntil: new Date(to) }), raw, `${from}…${to} / ${groupBy} (no lookback after \`to\`)`);
      }
    }
  });

  it('equals it along plans through the month rows: the month row minus the days of the month outside the range', async () => {
    // Each day part as its month's row (energy_monthly, which follows energy_daily) minus the month's other days: the
    // subtracted days hold samples (the 13th, the 16th to 18th), so the month row and the days must agree exactly.
    let throughMonths = 0;
    for (const [from, to, what] of RANGES) {
      const plan = viaMonth(planEnergyRange(new Date(from), new Date(to), LATER, { months: false }));
      if (plan.months.length === 0) continue;
      throughMonths++;
      for (const groupBy of GROUPS.filter((g) => g !== 'day')) {
        const q = { tenantId: 'acme', from: new Date(from), to: new Date(to), groupBy, stepLimits: STEP_LIMITS };
        expectSame(await repo.reportAlong(q, plan), await repo.reportFromRaw(q), `${what} / ${groupBy} (through November's row)`);
      }
    }
    expect(throughMonths).toBeGreaterThanOrEqual(2);
    // group_by=day takes no month rows: its groups are days.
    const q = { tenantId: 'acme', from: new Date(RANGES[4][0]), to: new Date(RANGES[4][1]), groupBy: 'day' as const, stepLimits: STEP_LIMITS };
    await expect(repo.reportAlong(q, viaMonth(planEnergyRange(q.from, q.to, LATER, { months: false })))).rejects.toThrow(RangeError);
  });

  it('finds a predecessor beyond the bounded lookup (P-4, back after 3 days) in the subtracted part too', async () => {
    // [10:10, 10:50): P-4's sample at 10:02 lies in the subtracted [10:00, 10:10), its predecessor on the 13th.
    const q = { tenantId: 'acme', from: new Date(`${T}10:10:00Z`), to: new Date(`${T}10:50:00Z`), groupBy: 'vehicle' as const, stepLimits: STEP_LIMITS };
    const plan = planEnergyRange(q.from, q.to, LATER);
    expect(plan.raw).toEqual([
      { from: new Date(`${T}10:00:00Z`), to: q.from, sign: -1 },
      { from: q.to, to: new Date(`${T}11:00:00Z`), sign: -1 },
    ]);
    const rolled = await repo.report(q);
    expectSame(rolled, await repo.reportFromRaw(q), 'P-4');
    // The pair 13th 09:30 → 16th 10:02 (88.9 km in 72 h, within the step limit) is in the hour's row and in the
    // subtracted part: missing the predecessor there would leave those 88.9 km in the figure of [10:10, 10:50).
    const p4 = rolled.find((g) => g.key === 'P-4')!;
    expect(p4.distance_km).toBeGreaterThan(0);
    expect(p4.distance_km).toBeLessThan(10);
  });

  it('counts a vehicle on a day only with samples in the range that day, also when the day comes from its row minus the rest', async () => {
    // P-2 stopped on the 16th: on the 17th it has no figure, though rows of the 16th are in the plan's parts.
    const q = { tenantId: 'acme', from: new Date(`${T}12:20:00Z`), to: new Date('2026-11-17T23:10:00Z'), groupBy: 'day' as const, stepLimits: STEP_LIMITS };
    const raw = await repo.reportFromRaw(q);
    expect(raw.map((g) => [g.key, g.vehicles])).toEqual([
      ['2026-11-16', 4],
      ['2026-11-17', 3],
    ]);
    expectSame(await repo.report(q), raw, 'day');
    // P-3's first samples ever lie at 10:04 and later (P-4's at 10:02): in [09:00, 10:00:30) they have none. Taken as the hour rows 09–11
    // minus the buckets 10:10–11:00 minus the raw part 10:00:30–10:10, its samples there are added once and taken off
    // twice: the vehicle has no figure that day only if the subtracted rollup rows count their samples negatively.
    const early = { ...q, from: new Date(`${T}09:00:00Z`), to: new Date(`${T}10:00:30Z`) };
    const r = (from: string, to: string, sign: 1 | -1): SignedRange => ({ from: new Date(`${T}${from}Z`), to: new Date(`${T}${to}Z`), sign });
    const plan: EnergyRangePlan = { months: [], days: [], hours: [r('09:00:00', '11:00:00', 1)], tenMinutes: [r('10:10:00', '11:00:00', -1)], raw: [r('10:00:30', '10:10:00', -1)] };
    const earlyRaw = await repo.reportFromRaw(early);
    expect(earlyRaw.map((g) => [g.key, g.vehicles])).toEqual([['2026-11-16', 2]]); // P-1 and P-2; P-4 is back at 10:02
    expectSame(await repo.reportAlong(early, plan), earlyRaw, 'day, through subtracted bucket rows');
  });

  it('leaves out the parts after the tenant\'s newest sample, read in one snapshot with it', async () => {
    // vehicle_state as ingestion keeps it: each vehicle's newest stored sample. P-1's is on the 18th before 08:00.
    await sql`
      INSERT INTO vehicle_state (vehicle_id, tenant_id, last_ts, last_seq)
      SELECT DISTINCT ON (vehicle_id) vehicle_id, 'acme', ts, seq FROM telemetry ORDER BY vehicle_id, ts DESC, seq DESC`.execute(h.database.db);
    const last = await h.database.db.selectFrom('telemetry').selectAll().where('vehicle_id', '=', 'P-1').orderBy('ts', 'desc').limit(1).executeTakeFirstOrThrow();
    const late = new Date('2026-11-18T10:30:00Z');
    try {
      // Ending at 09:17 on the 18th: the day's row minus the rest of the day after `to`, which lies after the newest
      // sample and is left out — among it the hours from 10:00, where a sample is about to arrive.
      const q = { tenantId: 'acme', from: new Date(`${T}12:40:00Z`), to: new Date('2026-11-18T09:17:00Z'), groupBy: 'vehicle' as const, stepLimits: STEP_LIMITS };
      const emptyFrom = new Date(last.ts.getTime() + 1);
      const planned = planEnergyRange(q.from, q.to, emptyFrom, { tenMinutesSince: new Date(-8.64e15) });
      const kept = withoutPartsFrom(planned, emptyFrom);
      const left = [...planned.hours, ...planned.tenMinutes, ...planned.raw].filter((r) => !([...kept.hours, ...kept.tenMinutes, ...kept.raw] as SignedRange[]).includes(r));
      expect(left.some((r) => r.sign === -1 && r.from <= late && late < r.to), 'a subtracted part holding 10:30 is left out').toBe(true);
      expect(kept.days.some((r) => r.sign === 1 && r.from <= late && late < r.to), 'the day of 10:30 is added').toBe(true);
      const before = await repo.reportFromRaw(q);
      for (const groupBy of GROUPS) expectSame(await repo.report({ ...q, groupBy }), await repo.reportFromRaw({ ...q, groupBy }), `parts after the newest sample left out / ${groupBy}`);

      // A sample at 10:30 (after `to`) committed between report()'s two statements, as ingestion commits it: the
      // sample, its hour and bucket rows, the newest sample in vehicle_state. Read committed, the second statement
      // would count it in the 18th's row without the subtracted hours left out as empty: 1 km and 1.5 kWh too many.
      let statements = 0;
      const between: KyselyPlugin = {
        transformQuery: (args) => args.node,
        transformResult: async (args) => {
          if (++statements === 1) {
            await h.database.db.transaction().execute(async (trx) => {
              await trx.insertInto('telemetry').values({ vehicle_id: 'P-1', ts: late, seq: Number(last.seq) + 1, odometer_km: Number(last.odometer_km) + 1, traction_kwh: Number(last.traction_kwh) + 1.5 }).execute();
              const rollup = { vehicle_id: 'P-1', samples: 1, distance_km: 1, traction_kwh: 1.5 };
              await trx.insertInto('energy_hourly').values({ ...rollup, hour: new Date('2026-11-18T10:00:00Z') }).execute();
              await trx.insertInto('energy_10min').values({ ...rollup, bucket: late }).execute();
              await trx.updateTable('vehicle_state').set({ last_ts: late, last_seq: Number(last.seq) + 1 }).where('vehicle_id', '=', 'P-1').execute();
            });
          }
          return args.result;
        },
      };
      expectSame(await new EnergyReportRepository(h.database.db.withPlugin(between)).report(q), before, 'a sample committed between the statements');
      expect(statements, 'report() ran its two statements').toBe(2);
      // Committed now, and outside the range: the figures are the same, through the subtracted hours this time.
      expectSame(await repo.report(q), before, 'after the sample is stored');
      expectSame(await repo.reportFromRaw(q), before, 'raw, after the sample is stored');
      // In a transaction of the caller's (its isolation unknown), nothing is left out, and the figures are the same.
      expectSame(await h.database.db.transaction().execute((trx) => new EnergyReportRepository(trx).report(q)), before, 'in a transaction of the caller');
    } finally {
      await sql`DELETE FROM telemetry WHERE vehicle_id = 'P-1' AND ts = ${late}`.execute(h.database.db);
      await sql`DELETE FROM energy_hourly WHERE vehicle_id = 'P-1' AND hour = '2026-11-18T10:00:00Z'`.execute(h.database.db);
      await sql`DELETE FROM energy_10min WHERE vehicle_id = 'P-1' AND bucket = ${late}`.execute(h.database.db);
      await sql`DELETE FROM vehicle_state`.execute(h.database.db);
    }
  });

  it('computes the raw part on a second connection, in the snapshot of the first', async () => {
    // From 12:57: the start's raw part is 12:57–13:00, with or without bucket rows; the rest comes from rollup rows.
    const q = { tenantId: 'acme', from: new Date(`${T}12:57:00Z`), to: new Date('2026-11-17T21:45:00Z'), groupBy: 'vehicle' as const, stepLimits: STEP_LIMITS };
    for (const tenMinutesSince of [undefined, new Date(-8.64e15)]) {
      const start = planEnergyRange(q.from, q.to, undefined, { tenMinutesSince }).raw.find((r) => r.from.getTime() === at(`${T}12:57:00Z`));
      expect(start?.to.getTime(), 'the raw part at the start').toBe(at(`${T}13:00:00Z`));
    }
    const before = await repo.reportFromRaw(q);
    // P-3 samples at 12:54 and 12:59. A sample at 12:56:30 between them, committed after report()'s snapshot was
    // taken and before its second connection starts, would be 12:59's predecessor in the raw part, there alone: the
    // rollup rows come from the first connection's snapshot. In that snapshot it does not exist, on either connection.
    const [a, b] = await h.database.db.selectFrom('telemetry').select(['odometer_km', 'traction_kwh']).where('vehicle_id', '=', 'P-3').where('ts', 'in', [new Date(`${T}12:54:00Z`), new Date(`${T}12:59:00Z`)]).orderBy('ts').execute();
    const pool = poolOf(h.database.db)!;
    const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
    const original = pool.connect;
    let acquired = 0;
    (pool as unknown as { connect: () => Promise<pg.PoolClient> }).connect = async () => {
      if (++acquired === 2) {
        const c = await connect();
        try {
          await c.query('INSERT INTO telemetry (vehicle_id, ts, seq, odometer_km, traction_kwh) VALUES ($1, $2, $3, $4, $5)', ['P-3', new Date(`${T}12:56:30Z`), 999_999, (Number(a!.odometer_km) + Number(b!.odometer_km)) / 2, (Number(a!.traction_kwh) + Number(b!.traction_kwh)) / 2]);
        } finally {
          c.release();
        }
      }
      return connect();
    };
    try {
      const got = await repo.report(q);
      expect(acquired, 'the raw part ran on a second connection').toBe(2);
      expectSame(got, before, 'a sample committed before the second connection started');
      expect(await repo.reportFromRaw(q), 'the sample counts once committed').not.toEqual(before);
    } finally {
      pool.connect = original;
      await sql`DELETE FROM telemetry WHERE vehicle_id = 'P-3' AND seq = 999999`.execute(h.database.db);
    }
  });

  it('computes the raw part on its first connection when the second one cannot be had', async () => {
    const q = { tenantId: 'acme', from: new Date(`${T}12:57:00Z`), to: new Date('2026-11-17T21:45:00Z'), groupBy: 'powertrain' as const, stepLimits: STEP_LIMITS };
    const want = await repo.reportFromRaw(q);
    const pool = poolOf(h.database.db)!;
    const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
    const original = pool.connect;
    let acquired = 0;
    (pool as unknown as { connect: () => Promise<pg.PoolClient> }).connect = () => (++acquired === 2 ? Promise.reject(new Error('sorry, too many clients already')) : connect());
    try {
      expectSame(await repo.report(q), want, 'without the second connection');
      expect(acquired, 'the second connection was asked for').toBe(2);
    } finally {
      pool.connect = original;
    }
  });

  it('never waits for a second connection it may not get: concurrent reports on pools of 1, 2 and 4 connections', async () => {
    const q = { tenantId: 'acme', from: new Date(`${T}12:57:00Z`), to: new Date('2026-11-17T21:45:00Z'), groupBy: 'type' as const, stepLimits: STEP_LIMITS };
    const want = await repo.reportFromRaw(q);
    // Each report holds a connection for its snapshot: taking a second one whenever it asked for it, the reports on a
    // full pool would each wait for another's connection, for ever.
    for (const max of [1, 2, 4]) {
      const small = createDatabase(h.database.url, { max, applicationName: 'specfleet-test' });
      try {
        const answers = await Promise.all(Array.from({ length: 6 }, () => new EnergyReportRepository(small.db).report(q)));
        answers.forEach((got, i) => expectSame(got, want, `pool of ${max}, report ${i}`));
        if (max === 4) {
          // One report alone on the pool of 4 takes a second connection (a quarter of 4 is one report at a time).
          const connect = small.pool.connect.bind(small.pool) as () => Promise<pg.PoolClient>;
          let acquired = 0;
          (small.pool as unknown as { connect: () => Promise<pg.PoolClient> }).connect = () => (acquired++, connect());
          expectSame(await new EnergyReportRepository(small.db).report(q), want, 'pool of 4, alone');
          expect(acquired, 'a report alone on the pool of 4 took a second connection').toBe(2);
        }
      } finally {
        await small.close();
      }
    }
  });

  it('stays equal with the rollup watermark inside the range, before and after the rollup moves it', async () => {
    // energy_daily holds the hours before the watermark only (migration 2026_11_27_140000); the report takes a day
    // range's hours from the watermark on from energy_hourly. Put the watermark back to the 17th 05:00 and rebuild
    // energy_daily to match (what the migration does), then let the rollup move it through the 17th.
    const rollup = new EnergyDailyRepository(h.database.db);
    const restore = await rollup.watermark();
    const sums = ['distance_km', 'traction_kwh', 'body_kwh', 'regen_kwh', 'charged_kwh', 'h2_kg', 'fuel_l', 'engine_hours', 'body_hours', 'samples'];
    await sql`UPDATE energy_daily_watermark SET hour = ${new Date('2026-11-17T05:00:00Z')}`.execute(h.database.db);
    await sql`DELETE FROM energy_daily`.execute(h.database.db);
    await sql`
      INSERT INTO energy_daily (vehicle_id, day, hours, ${sql.raw(sums.join(', '))})
      SELECT vehicle_id, date_trunc('day', hour, 'UTC'), count(*), ${sql.raw(sums.map((c) => `sum(${c})`).join(', '))}
      FROM energy_hourly WHERE hour < '2026-11-17T05:00:00Z' GROUP BY 1, 2`.execute(h.database.db);
    try {
      for (const step of ['at 05:00', 'moved to 15:00']) {
        if (step === 'moved to 15:00') expect((await rollup.advanceWatermark(new Date('2026-11-17T15:00:00Z'))).days).toBeGreaterThan(0);
        for (const [from, to, what] of RANGES) {
          for (const groupBy of GROUPS) {
            const q = { tenantId: 'acme', from: new Date(from), to: new Date(to), groupBy, stepLimits: STEP_LIMITS };
            const raw = await repo.reportFromRaw(q);
            expectSame(await repo.report(q), raw, `watermark ${step}: ${what} / ${groupBy}`);
            // Through the month rows: the hours of the month from the watermark on come from energy_hourly.
            const plan = viaMonth(planEnergyRange(q.from, q.to, LATER, { months: false }));
            if (groupBy !== 'day' && plan.months.length > 0) expectSame(await repo.reportAlong(q, plan), raw, `watermark ${step}: ${what} / ${groupBy} (through the month row)`);
          }
        }
      }
    } finally {
      await rollup.advanceWatermark(restore);
    }
  });
});
