import { DEFAULT_DECODE_LIMITS, decodeTelemetry, type TelemetrySample } from '@fleet/contracts';
import { describe, expect, it } from 'vitest';
import { FaultInjector, NO_FAULTS, emptyFaultCounts, type FaultRates } from './faults.js';
import { SimulatedVehicle } from './simulated-vehicle.js';

const START = Date.parse('2026-11-26T00:00:00Z');
const samplesOf = (n: number): TelemetrySample[] =>
  new SimulatedVehicle({ id: 'F-1', type: 'road_sweeper', bodyType: 'sweeper', powertrain: 'bev' }, { seed: 'f', startMs: START }).advanceTo(START + (n + 1) * 10_000).samples.slice(0, n);

function inject(rates: Partial<FaultRates>, n = 500) {
  const counts = emptyFaultCounts();
  const f = new FaultInjector('f', 'F-1', { ...NO_FAULTS, ...rates }, counts);
  const out = { samples: [] as TelemetrySample[], raw: [] as string[] };
  for (const s of samplesOf(n)) {
    const o = f.sample(s);
    out.samples.push(...o.samples.map((j) => JSON.parse(j) as TelemetrySample));
    out.raw.push(...o.raw);
  }
  out.samples.push(...f.drain().map((j) => JSON.parse(j) as TelemetrySample));
  return { out, counts, injector: f };
}

const ctx = { ...DEFAULT_DECODE_LIMITS, nowMs: START + 86_400_000 };

describe('fault injection', () => {
  it('passes samples through untouched with no faults', () => {
    const { out, counts } = inject({}, 50);
    expect(out.samples.map((s) => s.seq)).toEqual([...Array(50).keys()]);
    expect(Object.values(counts).every((n) => n === 0)).toBe(true);
  });

  it('duplicates, reorders and delays samples without losing any', () => {
    const { out, counts } = inject({ duplicate: 0.1, outOfOrder: 0.1, late: 0.05 });
    expect(counts.duplicate).toBeGreaterThan(10);
    expect(counts.outOfOrder).toBeGreaterThan(10);
    expect(counts.late).toBeGreaterThan(5);
    const seqs = out.samples.map((s) => s.seq);
    expect(new Set(seqs).size).toBe(500);
    expect(seqs.length).toBe(500 + counts.duplicate);
    expect(seqs.some((s, i) => i > 0 && s < (seqs[i - 1] as number))).toBe(true);
  });

  it('resets energy counters to zero, after which they grow again', () => {
    const { out, counts } = inject({ counterReset: 0.01 });
    expect(counts.counterReset).toBeGreaterThan(0);
    const traction = out.samples.map((s) => s.energy?.traction_kwh ?? 0);
    expect(traction.some((t, i) => i > 0 && t < (traction[i - 1] as number))).toBe(true);
    for (const s of out.samples) expect(decodeTelemetry(new TextEncoder().encode(JSON.stringify(s)), ctx).rejected).toEqual([]);
  });

  it('skews the clock of the chosen share of vehicles', () => {
    const counts = emptyFaultCounts();
    let skewed = 0;
    for (let i = 0; i < 200; i++) if (new FaultInjector('f', `V-${i}`, { ...NO_FAULTS, clockSkew: 0.25, clockSkewMaxS: 900 }, counts).skewMs !== 0) skewed++;
    expect(skewed).toBeGreaterThan(25);
    expect(skewed).toBeLessThan(80);
    expect(counts.skewedVehicles).toBe(skewed);
  });

  it('emits malformed and oversize messages that the decoder rejects', () => {
    const { out, counts } = inject({ malformed: 0.05, oversize: 0.01 });
    expect(counts.malformed).toBeGreaterThan(5);
    expect(counts.oversize).toBeGreaterThan(0);
    expect(out.samples).toHaveLength(500);
    const reasons = new Set<string>();
    for (const raw of out.raw) {
      const decoded = decodeTelemetry(new TextEncoder().encode(raw), ctx);
      expect(decoded.rejected.length).toBeGreaterThan(0);
      for (const r of decoded.rejected) reasons.add(r.reason);
    }
    expect(out.raw.some((r) => r.length > 256 * 1024)).toBe(true);
    // Each kind of fault reaches its own rejection, not only the parser's: wrong types are valid JSON of the wrong types.
    expect([...reasons].sort()).toEqual(['INVALID_TS', 'MALFORMED_JSON', 'MISSING_FIELD', 'OUT_OF_RANGE', 'PAYLOAD_TOO_LARGE', 'UNKNOWN_VERSION']);
  });
});
