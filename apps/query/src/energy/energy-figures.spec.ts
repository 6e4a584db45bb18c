import { describe, expect, it } from 'vitest';
import { DEFAULT_CONVERSION_FACTORS } from '../query.options.js';
import { type EnergySums, energyItem } from './energy-figures.js';

const energyFigures = (s: EnergySums, f: typeof DEFAULT_CONVERSION_FACTORS) => energyItem('vehicle', { key: 'SW-1', vehicles: 1, ...s }, f);

const zero: EnergySums = { distance_km: 0, traction_kwh: 0, body_kwh: 0, regen_kwh: 0, charged_kwh: 0, h2_kg: 0, fuel_l: 0, engine_hours: 0, body_hours: 0 };

describe('energyItem', () => {
  it('names the group under the group_by name and as key, with its vehicle count', () => {
    const item = energyItem('body_type', { key: 'sweeper', vehicles: 3, ...zero, distance_km: 12.5 }, DEFAULT_CONVERSION_FACTORS);
    expect(Object.keys(item).slice(0, 3)).toEqual(['key', 'vehicles', 'distance_km']);
    expect([item.body_type, item.key, item.vehicles, item.distance_km]).toEqual(['sweeper', 'sweeper', 3, 12.5]);
  });
  it('derives per-100-km, body share and body power for an electric sweeper', () => {
    const f = energyFigures({ ...zero, distance_km: 80, traction_kwh: 96, body_kwh: 64, body_hours: 4, charged_kwh: 180 }, DEFAULT_CONVERSION_FACTORS);
    expect(f.energy_kwh).toBe(160);
    expect(f.kwh_per_100km).toBe(200);
    expect(f.body_share).toBe(0.4);
    expect(f.body_kwh_per_hour).toBe(16);
    expect(f.kwh_equivalent).toBe(180);
    expect(f.co2_kg).toBeCloseTo(180 * 0.5366, 9);
    expect(f.co2_kg_per_100km).toBeCloseTo((180 * 0.5366) / 0.8, 9);
  });
  it('converts diesel and hydrogen with their heating values and emission factors', () => {
    const f = energyFigures({ ...zero, distance_km: 100, fuel_l: 30, h2_kg: 8 }, DEFAULT_CONVERSION_FACTORS);
    expect(f.kwh_equivalent).toBeCloseTo(30 * 9.95 + 8 * 33.33, 9);
    expect(f.co2_kg).toBeCloseTo(30 * 2.66 + 8 * 10, 9);
    expect(f.fuel_l_per_100km).toBe(30);
    expect(f.h2_kg_per_100km).toBe(8);
  });
  it('answers null, never Infinity or NaN, where a ratio has no denominator', () => {
    const f = energyFigures(zero, DEFAULT_CONVERSION_FACTORS);
    expect([f.kwh_per_100km, f.body_share, f.body_kwh_per_hour, f.kwh_equivalent_per_100km, f.co2_kg_per_100km]).toEqual([null, null, null, null, null]);
  });
  it('uses configured factors', () => {
    const f = energyFigures({ ...zero, charged_kwh: 100 }, { ...DEFAULT_CONVERSION_FACTORS, gridKgCo2PerKwh: 0.3869 });
    expect(f.co2_kg).toBeCloseTo(38.69, 9);
  });
});
