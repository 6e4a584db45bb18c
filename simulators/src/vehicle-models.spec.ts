// Every class × powertrain produces samples and events that the platform's own decoder accepts, for an hour of
// simulated time, with counters that only grow.
import { DEFAULT_DECODE_LIMITS, decodeEvents, decodeTelemetry, type TelemetrySample } from '@fleet/contracts';
import { describe, expect, it } from 'vitest';
import { SampleBuffer } from './firmware/sample-buffer.js';
import { SimulatedVehicle } from './simulated-vehicle.js';
import { allCombinations } from './vehicles/index.js';

// 07:30 in Suizhou (UTC+8): shifts are starting, so the hour has driving, working and parking in it.
const START = Date.parse('2026-11-26T23:30:00Z');
const HOUR = 3_600_000;
const COUNTERS = ['traction_kwh', 'body_kwh', 'regen_kwh', 'charged_kwh', 'h2_used_kg', 'fuel_used_l', 'engine_hours'] as const;

const ctx = { ...DEFAULT_DECODE_LIMITS, nowMs: START + HOUR };
const bytes = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

describe.each(allCombinations().map(({ model, powertrain }) => [model.type, powertrain, model.bodyType] as const))('%s / %s', (type, powertrain, bodyType) => {
  const vehicle = new SimulatedVehicle({ id: `T-${type}-${powertrain}`, type, bodyType, powertrain }, { seed: 'models', startMs: START, alarms: { alarmsPerHour: 2, dtcsPerHour: 2 } });
  const { samples, events } = vehicle.advanceTo(START + HOUR);

  it('produces an hour of samples every 10 s that decodeTelemetry accepts', () => {
    expect(samples.length).toBeGreaterThanOrEqual(359);
    const one = decodeTelemetry(bytes(samples[0]), ctx);
    expect(one.rejected).toEqual([]);
    // As a store-and-forward backlog too: the firmware's arrays of ≤ 1000 samples and ≤ 200 KiB.
    const buffer = new SampleBuffer(10_000);
    for (const s of samples) buffer.push(JSON.stringify(s));
    let accepted = 0;
    while (buffer.length > 0) {
      const payload = new TextEncoder().encode(`[${buffer.take(1000, 200 * 1024).join(',')}]`);
      expect(payload.byteLength).toBeLessThanOrEqual(200 * 1024);
      const decoded = decodeTelemetry(payload, ctx);
      expect(decoded.rejected).toEqual([]);
      accepted += decoded.accepted.length;
    }
    expect(accepted).toBe(samples.length);
  });

  it('produces events that decodeEvents accepts', () => {
    if (events.length === 0) return;
    const decoded = decodeEvents(bytes(events), ctx);
    expect(decoded.rejected).toEqual([]);
  });

  it('reports the blocks of its powertrain and body', () => {
    const s = samples[samples.length - 1] as TelemetrySample;
    expect(s.battery !== undefined).toBe(powertrain !== 'ice');
    expect(s.hydrogen !== undefined).toBe(powertrain === 'fcev');
    expect(s.fuel !== undefined).toBe(powertrain === 'ice' || powertrain === 'phev');
    expect(s.body?.type).toBe(bodyType);
  });

  it('counts seq up by one and never lets a counter go down', () => {
    samples.forEach((s, i) => expect(s.seq).toBe(i));
    for (let i = 1; i < samples.length; i++) {
      const a = samples[i - 1] as TelemetrySample;
      const b = samples[i] as TelemetrySample;
      for (const k of COUNTERS) expect(b.energy?.[k] ?? 0).toBeGreaterThanOrEqual(a.energy?.[k] ?? 0);
      expect(b.odometer_km ?? 0).toBeGreaterThanOrEqual(a.odometer_km ?? 0);
      expect(b.body?.hours ?? 0).toBeGreaterThanOrEqual(a.body?.hours ?? 0);
    }
  });

  it('stays around Suizhou', () => {
    for (const s of samples) {
      expect(Math.abs((s.position?.lat ?? 0) - 31.69)).toBeLessThan(0.4);
      expect(Math.abs((s.position?.lon ?? 0) - 113.38)).toBeLessThan(0.4);
    }
  });
});
