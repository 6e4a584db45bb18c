import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accumulateChain,
  compareSample,
  ENERGY_COLUMNS,
  hourlyIncreases,
  hourStart,
  stepIncrease,
  type CounterSample,
  type HourlyIncrease,
} from './energy-increase.js';

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 26, 8, 0, 0);

const s = (tsMs: number, seq: number, traction: number | null, odo?: number | null): CounterSample => ({
  tsMs,
  seq,
  counters: { traction_kwh: traction, distance_km: odo ?? null },
});

const total = (m: Map<number, HourlyIncrease>, col: keyof HourlyIncrease): number =>
  [...m.values()].reduce((a, b) => a + b[col], 0);

describe('stepIncrease', () => {
  it('counts a normal increase', () => {
    expect(stepIncrease('traction_kwh', 100, T0, 101.5, T0 + 60_000)).toBeCloseTo(1.5);
  });
  it('treats a negative step as a reset (0, never negative)', () => {
    expect(stepIncrease('traction_kwh', 100, T0, 3, T0 + 60_000)).toBe(0);
  });
  it('drops an implausibly large step (reboot glitch jumping back)', () => {
    expect(stepIncrease('traction_kwh', 0, T0, 18_234, T0 + 10_000)).toBe(0);
    expect(stepIncrease('distance_km', 0, T0, 15_000, T0 + 60_000)).toBe(0);
  });
  it('accepts a large step after a long gap', () => {
    expect(stepIncrease('traction_kwh', 100, T0, 600, T0 + 10 * H)).toBe(500);
  });
  it('allows quantisation slack over a short interval', () => {
    expect(stepIncrease('engine_hours', 10, T0, 10.1, T0 + 1_000)).toBeCloseTo(0.1);
    expect(stepIncrease('engine_hours', 10, T0, 10.5, T0 + 1_000)).toBe(0);
  });
  it('contributes nothing when either side is missing', () => {
    expect(stepIncrease('traction_kwh', null, T0, 5, T0 + 1000)).toBe(0);
    expect(stepIncrease('traction_kwh', 5, T0, undefined, T0 + 1000)).toBe(0);
  });
});

describe('hourlyIncreases', () => {
  it('attributes each pair to the hour of the later sample', () => {
    const m = hourlyIncreases([s(T0 + H - 60_000, 1, 10), s(T0 + H + 60_000, 2, 12)]);
    expect([...m.keys()]).toEqual([T0 + H]);
    expect(m.get(T0 + H)?.traction_kwh).toBeCloseTo(2);
  });

  it('is unchanged by duplicates and order', () => {
    const series = [s(T0, 1, 10), s(T0 + 1000, 2, 10.5), s(T0 + 2000, 3, 11)];
    const shuffled = [series[2]!, series[0]!, series[1]!, series[0]!, series[2]!];
    expect(hourlyIncreases(shuffled)).toEqual(hourlyIncreases(series));
  });

  it('survives the reboot glitch 0 → true value', () => {
    const m = hourlyIncreases([s(T0, 1, 1000), s(T0 + 1000, 2, 0), s(T0 + 2000, 3, 1000.2), s(T0 + 3000, 4, 1000.4)]);
    expect(total(m, 'traction_kwh')).toBeCloseTo(0.2);
  });

  it('breaks only the chain of the missing counter', () => {
    const m = hourlyIncreases([s(T0, 1, 10, 100), s(T0 + 60_000, 2, null, 101), s(T0 + 120_000, 3, 12, 102)]);
    expect(total(m, 'traction_kwh')).toBe(0);
    expect(total(m, 'distance_km')).toBeCloseTo(2);
  });

  it('orders equal timestamps by seq', () => {
    const m = hourlyIncreases([s(T0, 2, 11), s(T0, 1, 10), s(T0 + 60_000, 3, 12)]);
    expect(total(m, 'traction_kwh')).toBeCloseTo(2);
  });
});

describe('properties', () => {
  const sampleArb = fc.record({
    dt: fc.integer({ min: 0, max: 15 * 60_000 }),
    inc: fc.oneof(fc.double({ min: 0, max: 5, noNaN: true }), fc.constant(-1_000), fc.constant(50_000)),
    missing: fc.boolean(),
  });

  const build = (steps: { dt: number; inc: number; missing: boolean }[]): CounterSample[] => {
    let t = T0;
    let v = 1000;
    return steps.map((st, i) => {
      t += st.dt;
      v = Math.max(0, v + st.inc);
      return s(t, i, st.missing ? null : v);
    });
  };

  it('never produces a negative or an implausible hourly figure', () => {
    fc.assert(
      fc.property(fc.array(sampleArb, { maxLength: 60 }), (steps) => {
        for (const inc of hourlyIncreases(build(steps)).values()) {
          for (const col of ENERGY_COLUMNS) expect(inc[col]).toBeGreaterThanOrEqual(0);
        }
      }),
    );
  });

  it('does not depend on arrival order or repeats', () => {
    fc.assert(
      fc.property(
        fc.array(sampleArb, { maxLength: 40 }).chain((steps) => {
          const series = build(steps);
          return fc.tuple(fc.constant(series), fc.shuffledSubarray([...series, ...series], { minLength: series.length * 2 }));
        }),
        ([series, shuffled]) => {
          expect(hourlyIncreases(shuffled)).toEqual(hourlyIncreases(series));
        },
      ),
    );
  });

  it('incremental accumulation over in-order batches equals the whole-series reference', () => {
    fc.assert(
      fc.property(fc.array(sampleArb, { maxLength: 60 }), fc.integer({ min: 1, max: 10 }), (steps, batch) => {
        const series = build(steps).sort(compareSample);
        const acc = new Map<number, HourlyIncrease>();
        let prev: CounterSample | undefined;
        for (let i = 0; i < series.length; i += batch) {
          const chunk = series.slice(i, i + batch);
          accumulateChain(prev, chunk, acc);
          prev = chunk[chunk.length - 1];
        }
        expect(acc).toEqual(hourlyIncreases(series));
      }),
    );
  });

  it('hourStart is the UTC hour', () => {
    expect(hourStart(T0 + 59 * 60_000 + 59_999)).toBe(T0);
    expect(hourStart(T0 + H)).toBe(T0 + H);
  });
});
