// Measures the payload validators we could use for the telemetry contract (TypeBox compiled, ajv, zod 4, valibot)
// on the same schema, then the whole decodeTelemetry path; prints a table and writes bench/results/validator.json.
//
//   node --import ./scripts/register.mjs bench/validator.bench.ts [--quick]
//
// Each library gets the SPEC §3 telemetry schema in its own words; before timing anything the script checks that
// all four give the same verdict on a set of valid and invalid samples, so the numbers compare the same contract.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { Compile } from 'typebox/compile';
import * as v from 'valibot';
import { z } from 'zod';
import {
  BODY_TYPES,
  DTC_PATTERN,
  MAX_DTCS,
  MAX_SIGNAL_KEYS,
  MAX_SIGNAL_STRING_LENGTH,
  TelemetrySampleSchema,
  VEHICLE_STATES,
  decodeTelemetry,
  type DecodeContext,
} from '../libs/contracts/src/index.js';

const QUICK = process.argv.includes('--quick');
const ROUND_MS = QUICK ? 150 : 400;
const ROUNDS = QUICK ? 3 : 7;

// ---------------------------------------------------------------------------------------------------------------
// The samples
// ---------------------------------------------------------------------------------------------------------------

const FULL = {
  v: 1,
  ts: '2026-11-26T08:00:00.000Z',
  seq: 1042,
  position: { lat: 31.6902, lon: 113.3824, alt_m: 96.5, heading_deg: 270, speed_kmh: 32.5 },
  odometer_km: 15234.2,
  state: 'working',
  battery: {
    soc_pct: 78.5, voltage_v: 614.2, current_a: 32.1, temp_max_c: 31.0, temp_min_c: 24.5,
    cell_v_max: 3.412, cell_v_min: 3.398, soh_pct: 96.0,
  },
  hydrogen: { mass_kg: 12.4, pressure_mpa: 31.5, fc_power_kw: 42.0, fc_temp_c: 68.0 },
  fuel: { level_pct: 64.0, rate_lph: 18.2, engine_rpm: 1450, coolant_c: 88.0 },
  energy: {
    traction_kwh: 18234.5, body_kwh: 4210.2, regen_kwh: 2100.3, charged_kwh: 24100.0,
    h2_used_kg: 1520.3, fuel_used_l: 0, engine_hours: 0,
  },
  body: { type: 'sweeper', active: true, power_kw: 18.5, hours: 2210.4, signals: { brush_rpm: 120, water_l: 1800 } },
  dtc: ['P0A80', 'SPN520-FMI3'],
};
const MINIMAL = { v: 1, ts: '2026-11-26T08:00:00.000Z', seq: 1 };
// Fails late and deep: everything is right except one range, so every validator walks the whole object.
const INVALID = { ...FULL, battery: { ...FULL.battery, soc_pct: 140 } };

const signals65 = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`s${i}`, i]));
const EQUIVALENCE: { name: string; value: unknown; valid: boolean }[] = [
  { name: 'full', value: FULL, valid: true },
  { name: 'minimal', value: MINIMAL, valid: true },
  { name: 'epoch-ms ts', value: { ...MINIMAL, ts: 1795680000000 }, valid: true },
  { name: 'soc 140', value: INVALID, valid: false },
  { name: 'lat -91', value: { ...FULL, position: { ...FULL.position, lat: -91 } }, valid: false },
  { name: 'unknown top-level property', value: { ...MINIMAL, extra: 1 }, valid: false },
  { name: 'unknown nested property', value: { ...MINIMAL, fuel: { level_pct: 1, foo: 2 } }, valid: false },
  { name: 'soc as string', value: { ...MINIMAL, battery: { soc_pct: '78' } }, valid: false },
  { name: 'bad state', value: { ...MINIMAL, state: 'flying' }, valid: false },
  { name: 'bad body type', value: { ...MINIMAL, body: { type: 'crane' } }, valid: false },
  { name: 'body without type', value: { ...MINIMAL, body: { active: true } }, valid: false },
  { name: 'lower-case dtc', value: { ...MINIMAL, dtc: ['p0a80'] }, valid: false },
  { name: '65 dtcs', value: { ...MINIMAL, dtc: Array.from({ length: 65 }, () => 'P0A80') }, valid: false },
  { name: '65 signals', value: { ...MINIMAL, body: { type: 'pump', signals: signals65 } }, valid: false },
  { name: 'object signal', value: { ...MINIMAL, body: { type: 'pump', signals: { a: {} } } }, valid: false },
  { name: 'seq 1.5', value: { ...MINIMAL, seq: 1.5 }, valid: false },
  { name: 'seq 2^32', value: { ...MINIMAL, seq: 4294967296 }, valid: false },
  { name: 'position without lat', value: { ...MINIMAL, position: { lon: 1 } }, valid: false },
  { name: 'v 2', value: { ...MINIMAL, v: 2 }, valid: false },
  { name: 'no seq', value: { v: 1, ts: MINIMAL.ts }, valid: false },
  { name: 'Infinity counter', value: { ...MINIMAL, odometer_km: Number.POSITIVE_INFINITY }, valid: false },
];

// ---------------------------------------------------------------------------------------------------------------
// The same schema in each library
// ---------------------------------------------------------------------------------------------------------------

// TypeBox: the contract itself.
const typebox = Compile(TelemetrySampleSchema);

// ajv: the JSON Schema TypeBox produces (so it is by construction the same schema).
const ajv = new Ajv({ allErrors: false, strict: true, strictTypes: false });
const ajvValidate = ajv.compile(JSON.parse(JSON.stringify(TelemetrySampleSchema)) as object);

// zod 4 (numbers are finite by default; strictObject rejects unknown keys).
const zRange = (min: number, max: number) => z.number().min(min).max(max);
const zNonNeg = () => z.number().min(0);
const zTemp = () => zRange(-60, 250);
const zodSchema = z.strictObject({
  v: z.literal(1),
  ts: z.union([z.string().max(40), z.int().min(0)]),
  seq: z.int().min(0).max(4294967295),
  position: z.strictObject({
    lat: zRange(-90, 90), lon: zRange(-180, 180), alt_m: zRange(-500, 9000).optional(),
    heading_deg: zRange(0, 360).optional(), speed_kmh: zRange(0, 400).optional(),
  }).optional(),
  odometer_km: zNonNeg().optional(),
  state: z.enum(VEHICLE_STATES).optional(),
  battery: z.strictObject({
    soc_pct: zRange(0, 100).optional(), voltage_v: zRange(0, 2000).optional(), current_a: zRange(-3000, 3000).optional(),
    temp_max_c: zTemp().optional(), temp_min_c: zTemp().optional(), cell_v_max: zRange(0, 10).optional(),
    cell_v_min: zRange(0, 10).optional(), soh_pct: zRange(0, 100).optional(),
  }).optional(),
  hydrogen: z.strictObject({
    mass_kg: zRange(0, 1000).optional(), pressure_mpa: zRange(0, 100).optional(), fc_power_kw: zRange(0, 1000).optional(),
    fc_temp_c: zTemp().optional(),
  }).optional(),
  fuel: z.strictObject({
    level_pct: zRange(0, 100).optional(), rate_lph: zRange(0, 1000).optional(), engine_rpm: zRange(0, 10000).optional(),
    coolant_c: zTemp().optional(),
  }).optional(),
  energy: z.strictObject({
    traction_kwh: zNonNeg().optional(), body_kwh: zNonNeg().optional(), regen_kwh: zNonNeg().optional(),
    charged_kwh: zNonNeg().optional(), h2_used_kg: zNonNeg().optional(), fuel_used_l: zNonNeg().optional(),
    engine_hours: zNonNeg().optional(),
  }).optional(),
  body: z.strictObject({
    type: z.enum(BODY_TYPES),
    active: z.boolean().optional(),
    power_kw: zRange(-1000, 1000).optional(),
    hours: zNonNeg().optional(),
    signals: z.record(z.string(), z.union([z.number(), z.string().max(MAX_SIGNAL_STRING_LENGTH), z.boolean()]))
      .refine((o) => Object.keys(o).length <= MAX_SIGNAL_KEYS)
      .optional(),
  }).optional(),
  dtc: z.array(z.string().regex(new RegExp(DTC_PATTERN))).max(MAX_DTCS).optional(),
});

// valibot (v.number() lets Infinity through, so unbounded counters get v.finite()).
const vRange = (min: number, max: number) => v.pipe(v.number(), v.minValue(min), v.maxValue(max));
const vNonNeg = () => v.pipe(v.number(), v.finite(), v.minValue(0));
const vTemp = () => vRange(-60, 250);
const vInt = (min: number, max: number) => v.pipe(v.number(), v.safeInteger(), v.minValue(min), v.maxValue(max));
const valibotSchema = v.strictObject({
  v: v.literal(1),
  ts: v.union([v.pipe(v.string(), v.maxLength(40)), vInt(0, Number.MAX_SAFE_INTEGER)]),
  seq: vInt(0, 4294967295),
  position: v.optional(v.strictObject({
    lat: vRange(-90, 90), lon: vRange(-180, 180), alt_m: v.optional(vRange(-500, 9000)),
    heading_deg: v.optional(vRange(0, 360)), speed_kmh: v.optional(vRange(0, 400)),
  })),
  odometer_km: v.optional(vNonNeg()),
  state: v.optional(v.picklist(VEHICLE_STATES)),
  battery: v.optional(v.strictObject({
    soc_pct: v.optional(vRange(0, 100)), voltage_v: v.optional(vRange(0, 2000)), current_a: v.optional(vRange(-3000, 3000)),
    temp_max_c: v.optional(vTemp()), temp_min_c: v.optional(vTemp()), cell_v_max: v.optional(vRange(0, 10)),
    cell_v_min: v.optional(vRange(0, 10)), soh_pct: v.optional(vRange(0, 100)),
  })),
  hydrogen: v.optional(v.strictObject({
    mass_kg: v.optional(vRange(0, 1000)), pressure_mpa: v.optional(vRange(0, 100)), fc_power_kw: v.optional(vRange(0, 1000)),
    fc_temp_c: v.optional(vTemp()),
  })),
  fuel: v.optional(v.strictObject({
    level_pct: v.optional(vRange(0, 100)), rate_lph: v.optional(vRange(0, 1000)), engine_rpm: v.optional(vRange(0, 10000)),
    coolant_c: v.optional(vTemp()),
  })),
  energy: v.optional(v.strictObject({
    traction_kwh: v.optional(vNonNeg()), body_kwh: v.optional(vNonNeg()), regen_kwh: v.optional(vNonNeg()),
    charged_kwh: v.optional(vNonNeg()), h2_used_kg: v.optional(vNonNeg()), fuel_used_l: v.optional(vNonNeg()),
    engine_hours: v.optional(vNonNeg()),
  })),
  body: v.optional(v.strictObject({
    type: v.picklist(BODY_TYPES),
    active: v.optional(v.boolean()),
    power_kw: v.optional(vRange(-1000, 1000)),
    hours: v.optional(vNonNeg()),
    signals: v.optional(v.pipe(
      v.record(v.string(), v.union([v.pipe(v.number(), v.finite()), v.pipe(v.string(), v.maxLength(MAX_SIGNAL_STRING_LENGTH)), v.boolean()])),
      v.maxEntries(MAX_SIGNAL_KEYS),
    )),
  })),
  dtc: v.optional(v.pipe(v.array(v.pipe(v.string(), v.regex(new RegExp(DTC_PATTERN)))), v.maxLength(MAX_DTCS))),
});

// Each entry answers "is this a valid sample?" the cheapest way its library offers.
const LIBRARIES: { name: string; check: (value: unknown) => boolean; oneSource: string }[] = [
  { name: 'typebox (compiled)', check: (x) => typebox.Check(x), oneSource: 'yes: Static type + Compile + the schema object is JSON Schema' },
  { name: 'ajv (compiled JSON Schema)', check: (x) => ajvValidate(x), oneSource: 'validator only; with the TypeBox schema as its input: yes (chosen: TypeBox types + ajv compile)' },
  { name: 'zod 4 (safeParse)', check: (x) => zodSchema.safeParse(x).success, oneSource: 'yes: z.infer + z.toJSONSchema' },
  { name: 'valibot (is)', check: (x) => v.is(valibotSchema, x), oneSource: 'type yes; JSON Schema needs @valibot/to-json-schema' },
];

// ---------------------------------------------------------------------------------------------------------------
// Timing
// ---------------------------------------------------------------------------------------------------------------

let sink = 0;

function runFor(fn: () => unknown, ms: number): number {
  const budget = BigInt(ms) * 1_000_000n;
  const start = process.hrtime.bigint();
  let n = 0;
  let batch = 64;
  for (;;) {
    for (let i = 0; i < batch; i++) if (fn()) sink++;
    n += batch;
    const elapsed = process.hrtime.bigint() - start;
    if (elapsed >= budget) return n / (Number(elapsed) / 1e9);
    if (batch < 1 << 16) batch *= 2;
  }
}

/**
 * Median ops/s of each function over ROUNDS rounds of ROUND_MS, after a warm-up. The candidates run interleaved
 * (round 1 of each, then round 2 of each, …) so a burst of load on a shared machine hits all of them, not one.
 */
function opsPerSecond(fns: readonly (() => unknown)[]): number[] {
  for (const fn of fns) runFor(fn, ROUND_MS);
  const rates = fns.map((): number[] => []);
  for (let round = 0; round < ROUNDS; round++) fns.forEach((fn, i) => rates[i]!.push(runFor(fn, ROUND_MS)));
  return rates.map((r) => r.sort((a, b) => a - b)[Math.floor(r.length / 2)] ?? 0);
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const pad = (s: string, n: number): string => s.padEnd(n);
const lpad = (s: string, n: number): string => s.padStart(n);

// ---------------------------------------------------------------------------------------------------------------
// Run
// ---------------------------------------------------------------------------------------------------------------

function checkEquivalence(): void {
  const problems: string[] = [];
  for (const lib of LIBRARIES) {
    for (const c of EQUIVALENCE) {
      const got = lib.check(c.value);
      if (got !== c.valid) problems.push(`${lib.name}: "${c.name}" → ${got}, expected ${c.valid}`);
    }
  }
  if (problems.length > 0) {
    console.error(`The schemas differ between libraries:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`equivalence: all ${LIBRARIES.length} libraries agree on ${EQUIVALENCE.length} samples\n`);
}

interface Row {
  sample: string;
  library: string;
  opsPerSec: number;
  ratioVsFastest: number;
}

function benchLibraries(): Row[] {
  const rows: Row[] = [];
  for (const [sample, value] of [['full valid', FULL], ['minimal valid', MINIMAL], ['invalid (soc 140)', INVALID]] as const) {
    const rates = opsPerSecond(LIBRARIES.map((lib) => () => lib.check(value)));
    const measured = LIBRARIES.map((lib, i) => ({ library: lib.name, opsPerSec: rates[i] ?? 0 }));
    const fastest = Math.max(...measured.map((m) => m.opsPerSec));
    for (const m of measured) rows.push({ sample, ...m, ratioVsFastest: m.opsPerSec / fastest });
  }
  return rows;
}

interface DecodeRow {
  scenario: string;
  msgsPerSec: number;
  samplesPerSec: number;
}

function benchDecode(): DecodeRow[] {
  const nowMs = Date.parse(FULL.ts) + 60_000;
  const ctx: DecodeContext = { nowMs, maxFutureMs: 300_000, maxAgeMs: 7 * 86_400_000, maxSamples: 1000, maxBytes: 256 * 1024 };
  const encoder = new TextEncoder();
  const single = encoder.encode(JSON.stringify(FULL));
  const batch = encoder.encode(
    JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ ...FULL, seq: FULL.seq + i, ts: new Date(nowMs - 60_000 - i * 1000).toISOString() }))),
  );
  const invalid = encoder.encode(JSON.stringify(INVALID));
  // Sanity: the scenarios do what their names say.
  if (decodeTelemetry(single, ctx).accepted.length !== 1) throw new Error('single sample not accepted');
  if (decodeTelemetry(batch, ctx).accepted.length !== 100) throw new Error('batch not accepted');
  if (decodeTelemetry(invalid, ctx).rejected[0]?.reason !== 'OUT_OF_RANGE') throw new Error('invalid sample not OUT_OF_RANGE');

  const decoder = new TextDecoder('utf-8', { fatal: true });
  const scenarios: [string, number, () => unknown][] = [
    [`decodeTelemetry, 1 full sample (${single.byteLength} B)`, 1, () => decodeTelemetry(single, ctx).accepted.length],
    [`decodeTelemetry, 100-sample array (${batch.byteLength} B)`, 100, () => decodeTelemetry(batch, ctx).accepted.length],
    ['decodeTelemetry, 1 invalid sample (error path)', 1, () => decodeTelemetry(invalid, ctx).rejected.length],
    ['baseline: TextDecoder + JSON.parse only, 1 full sample', 1, () => JSON.parse(decoder.decode(single)) !== null],
    ['baseline: TextDecoder + JSON.parse only, 100-sample array', 100, () => JSON.parse(decoder.decode(batch)) !== null],
  ];
  const rates = opsPerSecond(scenarios.map(([, , fn]) => fn));
  return scenarios.map(([scenario, samples], i) => ({ scenario, msgsPerSec: rates[i] ?? 0, samplesPerSec: (rates[i] ?? 0) * samples }));
}

function version(pkg: string): string {
  const url = new URL(`../node_modules/${pkg}/package.json`, import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}

checkEquivalence();
console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown cpu'}; median of ${ROUNDS} interleaved rounds × ${ROUND_MS} ms\n`);

const rows = benchLibraries();
console.log(`${pad('sample', 20)}${pad('library', 30)}${lpad('ops/s', 14)}${lpad('vs fastest', 12)}`);
for (const r of rows) {
  console.log(`${pad(r.sample, 20)}${pad(r.library, 30)}${lpad(fmt(r.opsPerSec), 14)}${lpad(`${r.ratioVsFastest.toFixed(2)}×`, 12)}`);
}

const decodeRows = benchDecode();
console.log(`\n${pad('scenario', 60)}${lpad('msgs/s', 12)}${lpad('samples/s', 14)}`);
for (const r of decodeRows) console.log(`${pad(r.scenario, 60)}${lpad(fmt(r.msgsPerSec), 12)}${lpad(fmt(r.samplesPerSec), 14)}`);

const outDir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(outDir, { recursive: true });
const out = {
  benchmark: 'validator',
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  quick: QUICK,
  method: `median of ${ROUNDS} interleaved rounds × ${ROUND_MS} ms after a warm-up; same schema in every library (equivalence-checked)`,
  versions: { typebox: version('typebox'), ajv: version('ajv'), zod: version('zod'), valibot: version('valibot') },
  oneSource: Object.fromEntries(LIBRARIES.map((l) => [l.name, l.oneSource])),
  validators: rows,
  decode: decodeRows,
  sink,
};
writeFileSync(`${outDir}validator.json`, `${JSON.stringify(out, null, 2)}\n`);
console.log(`\nwrote bench/results/validator.json`);
