import { describe, expect, it } from 'vitest';
import { type EnergyRangePlan, lookbackAlong, lookbackFor, planEnergyRange, type SignedRange, withoutPartsFrom } from './energy-report.repository.js';

const d = (s: string) => new Date(s);
const r = (from: string, to: string, sign: 1 | -1 = 1): SignedRange => ({ from: d(from), to: d(to), sign });
/** A clock long after every range below: all of it counts as stored. */
const LATER = d('2030-01-01T00:00:00Z');
const TEN = 600_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const isMonthStart = (x: Date): boolean => x.getTime() === Date.UTC(x.getUTCFullYear(), x.getUTCMonth(), 1);

/** Every instant is covered with net weight 1 inside [from, to) and 0 outside; rollup parts are aligned to their unit. */
function expectExactCover(plan: EnergyRangePlan, from: number, to: number): void {
  for (const x of plan.months) expect(isMonthStart(x.from) && isMonthStart(x.to), 'month-aligned').toBe(true);
  for (const x of plan.days) expect(x.from.getTime() % DAY === 0 && x.to.getTime() % DAY === 0, 'day-aligned').toBe(true);
  for (const x of plan.hours) expect(x.from.getTime() % HOUR === 0 && x.to.getTime() % HOUR === 0, 'hour-aligned').toBe(true);
  for (const x of plan.tenMinutes) expect(x.from.getTime() % TEN === 0 && x.to.getTime() % TEN === 0, '10-minute-aligned').toBe(true);
  const all = [...plan.months, ...plan.days, ...plan.hours, ...plan.tenMinutes, ...plan.raw];
  for (const x of all) expect(x.from.getTime()).toBeLessThan(x.to.getTime());
  const points = [...new Set([from, to, ...all.flatMap((x) => [x.from.getTime(), x.to.getTime()])])].sort((a, b) => a - b);
  for (let i = 0; i + 1 < points.length; i++) {
    const [a, b] = [points[i]!, points[i + 1]!];
    const weight = all.filter((x) => x.from.getTime() <= a && b <= x.to.getTime()).reduce((w, x) => w + x.sign, 0);
    expect(weight, `[${new Date(a).toISOString()}, ${new Date(b).toISOString()}) in [${new Date(from).toISOString()}, ${new Date(to).toISOString()})`).toBe(a >= from && b <= to ? 1 : 0);
  }
}

describe('planEnergyRange', () => {
  it('reads whole hours from the rollup and a partial hour from raw rows when its part inside is the shorter', () => {
    expect(planEnergyRange(d('2026-11-20T10:30:00Z'), d('2026-11-20T13:15:00Z'), LATER)).toEqual({
      months: [],
      days: [],
      hours: [r('2026-11-20T11:00:00Z', '2026-11-20T13:00:00Z')],
      tenMinutes: [],
      raw: [r('2026-11-20T10:30:00Z', '2026-11-20T11:00:00Z'), r('2026-11-20T13:00:00Z', '2026-11-20T13:15:00Z')],
    });
  });
  it('takes a partial hour as its hourly row minus the raw part outside the range when that part is the shorter', () => {
    expect(planEnergyRange(d('2026-11-20T10:20:00Z'), d('2026-11-20T13:45:00Z'), LATER)).toEqual({
      months: [],
      days: [],
      hours: [r('2026-11-20T10:00:00Z', '2026-11-20T14:00:00Z')],
      tenMinutes: [],
      raw: [r('2026-11-20T10:00:00Z', '2026-11-20T10:20:00Z', -1), r('2026-11-20T13:45:00Z', '2026-11-20T14:00:00Z', -1)],
    });
  });
  it('reads whole UTC days from the daily rollup, the shorter side of a partial day from the hourly one', () => {
    // Without months (group_by=day).
    expect(planEnergyRange(d('2026-10-27T15:23:16.410Z'), d('2026-11-26T15:43:16.410Z'), LATER, { months: false })).toEqual({
      months: [],
      days: [r('2026-10-28T00:00:00Z', '2026-11-27T00:00:00Z')],
      hours: [r('2026-10-27T15:00:00Z', '2026-10-28T00:00:00Z'), r('2026-11-26T16:00:00Z', '2026-11-27T00:00:00Z', -1)],
      tenMinutes: [],
      raw: [r('2026-10-27T15:00:00Z', '2026-10-27T15:23:16.410Z', -1), r('2026-11-26T15:43:16.410Z', '2026-11-26T16:00:00Z', -1)],
    });
    // Early in the day: the day's first hours rather than its row minus the rest.
    expect(planEnergyRange(d('2026-10-27T15:23:16.410Z'), d('2026-11-26T03:10:00Z'), LATER, { months: false })).toEqual({
      months: [],
      days: [r('2026-10-28T00:00:00Z', '2026-11-26T00:00:00Z')],
      hours: [r('2026-10-27T15:00:00Z', '2026-10-28T00:00:00Z'), r('2026-11-26T00:00:00Z', '2026-11-26T03:00:00Z')],
      tenMinutes: [],
      raw: [r('2026-10-27T15:00:00Z', '2026-10-27T15:23:16.410Z', -1), r('2026-11-26T03:00:00Z', '2026-11-26T03:10:00Z')],
    });
  });
  it('for a range ending now, takes the current hour and day whole: what lies after `to` is not stored yet', () => {
    const to = d('2026-11-26T15:23:16.410Z');
    const plan = planEnergyRange(d('2026-10-27T15:23:16.410Z'), to, to);
    // The current month whole (its days after today are not stored yet), the last days of October.
    expect(plan.months).toEqual([r('2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z')]);
    expect(plan.days).toEqual([r('2026-10-28T00:00:00Z', '2026-11-01T00:00:00Z'), r('2026-11-27T00:00:00Z', '2026-12-01T00:00:00Z', -1)]);
    // The parts subtracted at the end lie in the future: empty (report() leaves them out, see below).
    expect(plan.hours).toEqual([r('2026-10-27T15:00:00Z', '2026-10-28T00:00:00Z'), r('2026-11-26T16:00:00Z', '2026-11-27T00:00:00Z', -1)]);
    expect(plan.raw).toEqual([r('2026-10-27T15:00:00Z', '2026-10-27T15:23:16.410Z', -1), r('2026-11-26T15:23:16.410Z', '2026-11-26T16:00:00Z', -1)]);
  });
  it('leaves out the parts that begin at or after the time from which nothing is stored (withoutPartsFrom), and keeps the ones that begin before', () => {
    const to = d('2026-11-26T15:23:16.410Z');
    const plan = planEnergyRange(d('2026-10-27T15:23:16.410Z'), to, to);
    // The month begins before `to` and stays whole; the days, hours and raw part after `to` go.
    expect(withoutPartsFrom(plan, to)).toEqual({
      months: [r('2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z')],
      days: [r('2026-10-28T00:00:00Z', '2026-11-01T00:00:00Z')],
      hours: [r('2026-10-27T15:00:00Z', '2026-10-28T00:00:00Z')],
      tenMinutes: [],
      raw: [r('2026-10-27T15:00:00Z', '2026-10-27T15:23:16.410Z', -1)],
    });
    // A millisecond later the raw part that begins at `to` stays.
    expect(withoutPartsFrom(plan, d('2026-11-26T15:23:16.411Z')).raw).toEqual(plan.raw);
    expect(withoutPartsFrom(plan, LATER)).toEqual(plan);
  });
  it('reads neither hours nor raw rows for a range on day boundaries, and a calendar month from its month row', () => {
    expect(planEnergyRange(d('2026-11-01T00:00:00Z'), d('2026-12-01T00:00:00Z'), LATER)).toEqual({ months: [r('2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z')], days: [], hours: [], tenMinutes: [], raw: [] });
    expect(planEnergyRange(d('2026-11-01T00:00:00Z'), d('2026-12-01T00:00:00Z'), LATER, { months: false })).toEqual({ months: [], days: [r('2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z')], hours: [], tenMinutes: [], raw: [] });
  });
  it('reads whole UTC months from the monthly rollup, a partial month as its days or as its row minus the other days', () => {
    // 30 days over a month boundary, all of it stored: November's row minus its last 4 days beats 26 day rows.
    expect(planEnergyRange(d('2026-10-27T15:23:16.410Z'), d('2026-11-26T15:43:16.410Z'), LATER)).toEqual({
      months: [r('2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z')],
      days: [r('2026-10-28T00:00:00Z', '2026-11-01T00:00:00Z'), r('2026-11-27T00:00:00Z', '2026-12-01T00:00:00Z', -1)],
      hours: [r('2026-10-27T15:00:00Z', '2026-10-28T00:00:00Z'), r('2026-11-26T16:00:00Z', '2026-11-27T00:00:00Z', -1)],
      tenMinutes: [],
      raw: [r('2026-10-27T15:00:00Z', '2026-10-27T15:23:16.410Z', -1), r('2026-11-26T15:43:16.410Z', '2026-11-26T16:00:00Z', -1)],
    });
    // Across the turn of the year: 11 month rows, two partial months from their days (12 and 2 rows), and one from
    // its row minus its first 13 days (14 rows rather than 18).
    const year = planEnergyRange(d('2025-12-20T00:00:00Z'), d('2026-12-03T00:00:00Z'), LATER);
    expect(year.months).toEqual([r('2026-01-01T00:00:00Z', '2026-12-01T00:00:00Z')]);
    expect(year.days).toEqual([r('2025-12-20T00:00:00Z', '2026-01-01T00:00:00Z'), r('2026-12-01T00:00:00Z', '2026-12-03T00:00:00Z')]);
    expect(planEnergyRange(d('2025-12-14T00:00:00Z'), d('2026-12-03T00:00:00Z'), LATER).days).toEqual([
      r('2025-12-01T00:00:00Z', '2025-12-14T00:00:00Z', -1),
      r('2026-12-01T00:00:00Z', '2026-12-03T00:00:00Z'),
    ]);
    // A short range in the middle of a month: days only.
    expect(planEnergyRange(d('2026-11-10T00:00:00Z'), d('2026-11-14T00:00:00Z'), LATER).months).toEqual([]);
  });
  it('reads hours only where a day is partial', () => {
    expect(planEnergyRange(d('2026-11-01T05:00:00Z'), d('2026-11-03T00:00:00Z'), LATER)).toEqual({
      months: [],
      days: [r('2026-11-01T00:00:00Z', '2026-11-03T00:00:00Z')],
      hours: [r('2026-11-01T00:00:00Z', '2026-11-01T05:00:00Z', -1)],
      tenMinutes: [],
      raw: [],
    });
    // Whole hours that reach from one day into the next, without a whole day between: hours only.
    expect(planEnergyRange(d('2026-11-01T20:00:00Z'), d('2026-11-02T04:00:00Z'), LATER)).toEqual({ months: [], days: [], hours: [r('2026-11-01T20:00:00Z', '2026-11-02T04:00:00Z')], tenMinutes: [], raw: [] });
  });
  it('inside a single hour, reads raw rows of the range or the hour minus its ends, whichever is shorter', () => {
    expect(planEnergyRange(d('2026-11-20T10:10:00Z'), d('2026-11-20T10:30:00Z'), LATER)).toEqual({ months: [], days: [], hours: [], tenMinutes: [], raw: [r('2026-11-20T10:10:00Z', '2026-11-20T10:30:00Z')] });
    expect(planEnergyRange(d('2026-11-20T10:10:00Z'), d('2026-11-20T10:50:00Z'), LATER)).toEqual({
      months: [],
      days: [],
      hours: [r('2026-11-20T10:00:00Z', '2026-11-20T11:00:00Z')],
      tenMinutes: [],
      raw: [r('2026-11-20T10:00:00Z', '2026-11-20T10:10:00Z', -1), r('2026-11-20T10:50:00Z', '2026-11-20T11:00:00Z', -1)],
    });
    expect(planEnergyRange(d('2026-11-20T10:40:00Z'), d('2026-11-20T11:00:00Z'), LATER)).toEqual({ months: [], days: [], hours: [], tenMinutes: [], raw: [r('2026-11-20T10:40:00Z', '2026-11-20T11:00:00Z')] });
  });
  it('reads whole 10-minute buckets between the hour and the bucket boundary nearest to each end, where bucket rows exist', () => {
    const ALWAYS = { tenMinutesSince: d('2026-01-01T00:00:00Z') };
    // [10:33:20, 13:15): bucket 10:30 minus 3 min 20 s raw, buckets 10:30–11:00, hours 11–13, buckets 13:00–13:10,
    // 5 min raw: 8 min 20 s of raw time instead of 41 min 40 s.
    expect(planEnergyRange(d('2026-11-20T10:33:20Z'), d('2026-11-20T13:15:00Z'), LATER, ALWAYS)).toEqual({
      months: [],
      days: [],
      hours: [r('2026-11-20T11:00:00Z', '2026-11-20T13:00:00Z')],
      tenMinutes: [r('2026-11-20T10:30:00Z', '2026-11-20T11:00:00Z'), r('2026-11-20T13:00:00Z', '2026-11-20T13:10:00Z')],
      raw: [r('2026-11-20T10:30:00Z', '2026-11-20T10:33:20Z', -1), r('2026-11-20T13:10:00Z', '2026-11-20T13:15:00Z')],
    });
    // Early in an hour, the hour row minus its first bucket and the raw part before `from`: [10:13, 13:00) = hours
    // 10–13 − bucket 10:00 − raw 10:10–10:13 (3 minutes of raw time, 4 rollup rows).
    expect(planEnergyRange(d('2026-11-20T10:13:00Z'), d('2026-11-20T13:00:00Z'), LATER, ALWAYS)).toEqual({
      months: [],
      days: [],
      hours: [r('2026-11-20T10:00:00Z', '2026-11-20T13:00:00Z')],
      tenMinutes: [r('2026-11-20T10:00:00Z', '2026-11-20T10:10:00Z', -1)],
      raw: [r('2026-11-20T10:10:00Z', '2026-11-20T10:13:00Z', -1)],
    });
    // A 30-day report ending now at minute :30: at most 5 minutes of raw rows per end, the future part free.
    const to = d('2026-11-26T15:30:16.410Z');
    const now = planEnergyRange(d('2026-10-27T15:30:16.410Z'), to, to, ALWAYS);
    expect(now.raw).toEqual([r('2026-10-27T15:30:00Z', '2026-10-27T15:30:16.410Z', -1), r('2026-11-26T15:30:16.410Z', '2026-11-26T15:40:00Z', -1)]);
    expect(now.tenMinutes).toEqual([r('2026-10-27T15:30:00Z', '2026-10-27T16:00:00Z'), r('2026-11-26T15:40:00Z', '2026-11-26T16:00:00Z', -1)]);
    // No bucket rows before `tenMinutesSince`: the start of the range then comes from raw rows as without buckets.
    const since = planEnergyRange(d('2026-11-20T10:33:20Z'), d('2026-11-20T13:15:00Z'), LATER, { tenMinutesSince: d('2026-11-20T12:00:00Z') });
    expect(since.tenMinutes).toEqual([r('2026-11-20T13:00:00Z', '2026-11-20T13:10:00Z')]);
    expect(since.raw).toEqual([r('2026-11-20T10:33:20Z', '2026-11-20T11:00:00Z'), r('2026-11-20T13:10:00Z', '2026-11-20T13:15:00Z')]);
    // Without the option, no bucket rows at all.
    expect(planEnergyRange(d('2026-11-20T10:33:20Z'), d('2026-11-20T13:15:00Z'), LATER).tenMinutes).toEqual([]);
  });
  it('covers exactly [from, to) for any range and clock, with and without months and buckets (net weight 1 inside, 0 outside)', () => {
    const rnd = random(42);
    for (let i = 0; i < 3000; i++) {
      const { from, to, now, months, since, options } = randomCase(rnd, { startDays: 20, maxSpanDays: 400, offset: () => (rnd() < 0.5 ? 0 : Math.floor(rnd() * 1000)) });
      const plan = planEnergyRange(new Date(from), new Date(to), new Date(now), options);
      if (!months) expect(plan.months).toEqual([]);
      if (since === undefined) expect(plan.tenMinutes).toEqual([]);
      for (const x of plan.tenMinutes) expect(x.from.getTime()).toBeGreaterThanOrEqual(since!);
      expectExactCover(plan, from, to);
    }
  });
  it('picks the cheapest plan: no pairing of the two ends\' boundary chains reads less raw time, or as little with fewer rollup rows', () => {
    const rnd = random(7);
    for (let i = 0; i < 400; i++) {
      const { from, to, now, options } = randomCase(rnd, { startDays: 40, maxSpanDays: 100, offset: () => Math.floor(rnd() * 1000) });
      const chosen = costOf(planEnergyRange(new Date(from), new Date(to), new Date(now), options), now);
      const cheapest = everyPlan(from, to, options).map((p) => costOf(p, now)).reduce((a, b) => (b[0] < a[0] || (b[0] === a[0] && b[1] < a[1]) ? b : a));
      expect(chosen, `[${new Date(from).toISOString()}, ${new Date(to).toISOString()}) at ${new Date(now).toISOString()}`).toEqual(cheapest);
    }
  });
});

/** A seeded generator of numbers in [0, 1) (a linear congruential one: the same cases on every run). */
function random(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/**
 * Random inputs of planEnergyRange: bounds on and off minute, hour and day boundaries (`offset`: the milliseconds
 * added to the start), the start within `startDays` of 1 Nov, spans from seconds to `maxSpanDays`, a clock before,
 * inside or after the range, months on or off, and bucket rows never, always, or from a time around the range.
 */
function randomCase(rnd: () => number, shape: { startDays: number; maxSpanDays: number; offset: () => number }) {
  const snap = [1, 60_000, HOUR, DAY][Math.floor(rnd() * 4)]!;
  const from = Date.parse('2026-11-01T00:00:00Z') + Math.floor((rnd() * shape.startDays * DAY) / snap) * snap + shape.offset();
  const span = [rnd() * HOUR, rnd() * DAY, rnd() * 10 * DAY, rnd() * shape.maxSpanDays * DAY][Math.floor(rnd() * 4)]!;
  const to = from + Math.max(1, Math.floor(span / snap) * snap);
  const now = from + (rnd() - 0.2) * 1.5 * (to - from);
  const months = rnd() < 0.7;
  const since = [undefined, -8.64e15, from + Math.floor((rnd() - 0.3) * 1.5 * (to - from))][Math.floor(rnd() * 3)];
  return { from, to, now, months, since, options: { months, tenMinutesSince: since === undefined ? undefined : new Date(since) } };
}

const nextMonth = (ms: number): number => Date.UTC(new Date(ms).getUTCFullYear(), new Date(ms).getUTCMonth() + 1, 1);

/** What planEnergyRange minimises: raw time stored before `now`, then rollup rows stored before it. */
function costOf(plan: EnergyRangePlan, now: number): [number, number] {
  const stored = (r: SignedRange) => Math.max(0, Math.min(r.to.getTime(), now) - r.from.getTime());
  let rollup = 0;
  for (const r of plan.months) for (let m = r.from.getTime(); m < Math.min(r.to.getTime(), now); m = nextMonth(m)) rollup++;
  for (const [ranges, unit] of [[plan.days, DAY], [plan.hours, HOUR], [plan.tenMinutes, TEN]] as const) for (const r of ranges) rollup += Math.ceil(stored(r) / unit);
  return [plan.raw.reduce((n, r) => n + stored(r), 0), rollup];
}

/**
 * Every plan of the family planEnergyRange chooses from, written out whole: raw rows only, or for each top level
 * (hours, days, months) every boundary chain of `from` paired with every one of `to` (each boundary the floor or the
 * ceiling of the one below; the 10-minute one optional and only where bucket rows exist), the part between the tops
 * from the top level (a whole day or month at least above hours).
 */
function everyPlan(from: number, to: number, options: { months: boolean; tenMinutesSince?: Date }): EnergyRangePlan[] {
  const since = options.tenMinutesSince?.getTime() ?? Infinity;
  const floorTo = (x: number, u: number) => Math.floor(x / u) * u;
  const near = (x: number, u: number) => [...new Set([floorTo(x, u), Math.ceil(x / u) * u])];
  const nearMonth = (x: number) => [...new Set([Date.UTC(new Date(x).getUTCFullYear(), new Date(x).getUTCMonth(), 1), x === Date.UTC(new Date(x).getUTCFullYear(), new Date(x).getUTCMonth(), 1) ? x : nextMonth(x)])];
  type Chain = number[]; // [x, b | NaN, h, d?, m?]
  const chains = (x: number, levels: number): Chain[] => {
    const out: Chain[] = [];
    for (const b of [...near(x, TEN), Number.NaN]) {
      for (const h of near(Number.isNaN(b) ? x : b, HOUR)) {
        if (!Number.isNaN(b) && Math.min(b, h) < since) continue;
        if (levels === 0) out.push([x, b, h]);
        else for (const dd of near(h, DAY)) {
          if (levels === 1) out.push([x, b, h, dd]);
          else for (const m of nearMonth(dd)) out.push([x, b, h, dd, m]);
        }
      }
    }
    return out;
  };
  const range = (a: number, b: number, sign: 1 | -1): SignedRange[] =>
    a < b ? [{ from: new Date(a), to: new Date(b), sign }] : b < a ? [{ from: new Date(b), to: new Date(a), sign: sign === 1 ? -1 : 1 }] : [];
  const plans: EnergyRangePlan[] = [{ months: [], days: [], hours: [], tenMinutes: [], raw: range(from, to, 1) }];
  for (let level = 0; level < (options.months ? 3 : 2); level++) {
    for (const c0 of chains(from, level)) {
      for (const c1 of chains(to, level)) {
        const [top0, top1] = [c0[c0.length - 1]!, c1[c1.length - 1]!];
        if (level > 0 && top0 >= top1) continue;
        const plan: EnergyRangePlan = { months: [], days: [], hours: [], tenMinutes: [], raw: [] };
        for (const [c, sign] of [[c0, -1], [c1, 1]] as const) {
          const [x, b, h] = c as [number, number, number];
          if (Number.isNaN(b)) plan.raw.push(...range(h, x, sign));
          else {
            plan.raw.push(...range(b, x, sign));
            plan.tenMinutes.push(...range(h, b, sign));
          }
          if (level >= 1) plan.hours.push(...range(c[3]!, h, sign));
          if (level >= 2) plan.days.push(...range(c[4]!, c[3]!, sign));
        }
        [plan.hours, plan.days, plan.months][level]!.push(...range(top0, top1, 1));
        plans.push(plan);
      }
    }
  }
  return plans;
}

describe('lookbackFor', () => {
  it('looks about three sample intervals back, between 10 s and 5 min, and the full 5 min when the rate is unknown', () => {
    expect(lookbackFor(undefined)).toBe(300_000);
    expect(lookbackFor(0)).toBe(300_000);
    expect(lookbackFor(Number.NaN)).toBe(300_000);
    expect(lookbackFor(12)).toBe(300_000); // every 5 min: 15 min, capped
    expect(lookbackFor(120)).toBe(90_000); // every 30 s
    expect(lookbackFor(360)).toBe(30_000); // every 10 s
    expect(lookbackFor(3600)).toBe(10_000); // every second: 3 s, raised to 10 s
  });
});

describe('lookbackAlong', () => {
  it('keeps the full lookback for a part of a third of it or longer, 10 s for a shorter one', () => {
    expect(lookbackAlong(291_000, 300_000)).toBe(300_000); // 4 min 51 s left to the hour
    expect(lookbackAlong(100_000, 300_000)).toBe(300_000);
    expect(lookbackAlong(99_999, 300_000)).toBe(10_000);
    expect(lookbackAlong(9_016, 300_000)).toBe(10_000); // 9 s before the nearest bucket
    expect(lookbackAlong(1_000, 10_000)).toBe(10_000); // every second: 10 s either way
    expect(lookbackAlong(0, 0)).toBe(0);
  });
});
