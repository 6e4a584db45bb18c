// The reference rule that turns cumulative counters into per-hour increases (SPEC §5 "energy figures come from
// the cumulative counters"). The database rollup (`energy_hourly`) must equal what this function computes from
// the raw telemetry rows; the property test compares the two.
//
// The rule:
// - samples are ordered by (ts, seq); a repeated (ts, seq) counts once (the table's unique key keeps one row);
// - each consecutive pair contributes `next − prev` to the UTC hour of the later sample, so a lost sample only
//   moves energy to a later pair and never loses it;
// - a negative step is a counter reset (pack/ECU replacement, reboot) and contributes 0, never a negative figure;
// - a step larger than physically plausible for the elapsed time contributes 0, never a giant figure: the
//   firmware bug that reads 0 after a reboot and then jumps back to the true value produces one negative step
//   (→ 0) and one huge step over a few seconds (→ 0);
// - a counter missing from a sample breaks that counter's chain at that sample (the pairs on both sides of it
//   contribute nothing for that counter); the other counters of the same sample are unaffected.

/** Names of the `energy_hourly` increase columns, in column order. */
export const ENERGY_COLUMNS = [
  'distance_km',
  'traction_kwh',
  'body_kwh',
  'regen_kwh',
  'charged_kwh',
  'h2_kg',
  'fuel_l',
  'engine_hours',
  'body_hours',
] as const;

export type EnergyColumn = (typeof ENERGY_COLUMNS)[number];

/** One sample's counter readings; `null`/absent = the counter was not in the sample. */
export type CounterReadings = Partial<Record<EnergyColumn, number | null>>;

export interface CounterSample {
  readonly tsMs: number;
  readonly seq: number;
  readonly counters: CounterReadings;
}

export interface StepLimit {
  /** Highest plausible rate, in counter units per hour of elapsed time. */
  readonly maxPerHour: number;
  /**
   * Absolute slack added to the rate limit, for counter quantisation: a counter reported with 0.1 resolution
   * every second legitimately steps by 0.1 in 1 s, which as a rate would look like 360/h.
   */
  readonly slack: number;
}

/**
 * Plausibility caps, per counter. Each is well above anything the vehicle classes of SPEC §1 can do, and far
 * below the jump a counter makes when it comes back from a reboot glitch (the whole lifetime value).
 */
export const STEP_LIMITS: Readonly<Record<EnergyColumn, StepLimit>> = Object.freeze({
  // No road vehicle in the fleet exceeds 400 km/h; 1 km of slack for 0.1–1 km odometer resolution.
  distance_km: { maxPerHour: 400, slack: 1 },
  // 2 MW covers the largest traction motors and megawatt charging; 1 kWh slack for 0.1–1 kWh resolution.
  traction_kwh: { maxPerHour: 2000, slack: 1 },
  body_kwh: { maxPerHour: 2000, slack: 1 },
  regen_kwh: { maxPerHour: 2000, slack: 1 },
  charged_kwh: { maxPerHour: 2000, slack: 1 },
  // A heavy fuel-cell truck burns ~10 kg H2/h flat out; refuelling is not consumption. 60 kg/h leaves room.
  h2_kg: { maxPerHour: 60, slack: 0.1 },
  // A 500 kW diesel burns ~120 L/h; fire-engine pumps a bit more. 300 L/h leaves room.
  fuel_l: { maxPerHour: 300, slack: 1 },
  // An hours counter cannot run faster than the clock; 0.1 h slack for the common 0.05–0.1 h resolution.
  engine_hours: { maxPerHour: 1, slack: 0.1 },
  body_hours: { maxPerHour: 1, slack: 0.1 },
});

const HOUR_MS = 3_600_000;

/** Start of the UTC hour holding `tsMs`. */
export function hourStart(tsMs: number): number {
  return Math.floor(tsMs / HOUR_MS) * HOUR_MS;
}

const TEN_MINUTES_MS = 600_000;

/** Start of the UTC 10-minute bucket holding `tsMs` (energy_10min). */
export function tenMinuteStart(tsMs: number): number {
  return Math.floor(tsMs / TEN_MINUTES_MS) * TEN_MINUTES_MS;
}

/** The increase one consecutive pair contributes for one counter (0 for a reset or an implausible jump). */
export function stepIncrease(
  column: EnergyColumn,
  prev: number | null | undefined,
  prevTsMs: number,
  next: number | null | undefined,
  nextTsMs: number,
): number {
  if (prev == null || next == null || !Number.isFinite(prev) || !Number.isFinite(next)) return 0;
  const step = next - prev;
  if (!(step > 0)) return 0;
  const limit = STEP_LIMITS[column];
  const elapsedHours = Math.max(0, nextTsMs - prevTsMs) / HOUR_MS;
  if (step > limit.maxPerHour * elapsedHours + limit.slack) return 0;
  return step;
}

export type HourlyIncrease = Record<EnergyColumn, number>;

export function zeroIncrease(): HourlyIncrease {
  return {
    distance_km: 0,
    traction_kwh: 0,
    body_kwh: 0,
    regen_kwh: 0,
    charged_kwh: 0,
    h2_kg: 0,
    fuel_l: 0,
    engine_hours: 0,
    body_hours: 0,
  };
}

/** Orders by (ts, seq). */
export function compareSample(a: { tsMs: number; seq: number }, b: { tsMs: number; seq: number }): number {
  return a.tsMs - b.tsMs || a.seq - b.seq;
}

/**
 * Adds the increases of the pairs `prev → samples[0] → samples[1] → …` to `into`, keyed by the start of the period
 * (`periodOf`: the hour by default, or the 10-minute bucket) of the later sample. `samples` must already be ordered
 * by (ts, seq) and free of repeats; `prev` is the sample just before them (or undefined when there is none). Used both
 * by the reference and by the incremental in-order path.
 */
export function accumulateChain(
  prev: CounterSample | undefined,
  samples: readonly CounterSample[],
  into: Map<number, HourlyIncrease>,
  periodOf: (tsMs: number) => number = hourStart,
): void {
  let before = prev;
  for (const sample of samples) {
    if (before !== undefined) {
      const period = periodOf(sample.tsMs);
      let sums = into.get(period);
      for (const column of ENERGY_COLUMNS) {
        const inc = stepIncrease(column, before.counters[column], before.tsMs, sample.counters[column], sample.tsMs);
        if (inc !== 0) {
          if (sums === undefined) {
            sums = zeroIncrease();
            into.set(period, sums);
          }
          sums[column] += inc;
        }
      }
    }
    before = sample;
  }
}

/**
 * The reference: per-hour increases of one vehicle's samples, in any order, with repeats (per 10-minute bucket with
 * `periodOf` = tenMinuteStart). Hours with no increase at all are absent from the result.
 */
export function hourlyIncreases(samples: readonly CounterSample[], periodOf: (tsMs: number) => number = hourStart): Map<number, HourlyIncrease> {
  const ordered = [...samples].sort(compareSample);
  const unique: CounterSample[] = [];
  for (const s of ordered) {
    const last = unique[unique.length - 1];
    if (last !== undefined && last.tsMs === s.tsMs && last.seq === s.seq) continue;
    unique.push(s);
  }
  const out = new Map<number, HourlyIncrease>();
  accumulateChain(undefined, unique, out, periodOf);
  return out;
}
