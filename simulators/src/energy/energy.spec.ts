// The energy model is physically plausible: road load in the right range, regeneration only on electric drives,
// hydrogen only on fuel-cell vehicles, a sweeper's body share within 10–60 %, a reefer cooling while parked.
import type { TelemetrySample } from '@fleet/contracts';
import { describe, expect, it } from 'vitest';
import { SimulatedVehicle } from '../simulated-vehicle.js';
import { allCombinations, vehicleClass } from '../vehicles/index.js';
import type { VehicleType } from '../vehicles/vehicle-class.js';
import type { Powertrain } from './powertrain.js';
import { bsfcGPerKwh, fuelCellEfficiency, hydrogenRateKgph, roadLoad, splitDrive } from './road-load.js';

const MIDNIGHT_LOCAL = Date.parse('2026-06-01T16:00:00Z');
const DAY = 86_400_000;

function day(type: VehicleType, powertrain: Powertrain, seed = 'energy'): TelemetrySample[] {
  const m = vehicleClass(type);
  const v = new SimulatedVehicle({ id: `E-${m.code}-${powertrain}`, type, bodyType: m.bodyType, powertrain }, { seed, startMs: MIDNIGHT_LOCAL });
  return v.advanceTo(MIDNIGHT_LOCAL + DAY).samples;
}

const delta = (samples: TelemetrySample[], k: keyof NonNullable<TelemetrySample['energy']>): number =>
  (samples[samples.length - 1]?.energy?.[k] ?? 0) - (samples[0]?.energy?.[k] ?? 0);

describe('road load', () => {
  const truck = { massKg: 18_000, cdA: 6, crr: 0.008, auxKw: 3, maxDriveKw: 300, cruiseKmh: 60 };

  it('needs tens of kW to hold an 18 t truck at 60 km/h on the flat', () => {
    const v = 60 / 3.6;
    const load = roadLoad(truck, v, v, 1, 0);
    expect(load.wheelKw).toBeGreaterThan(30);
    expect(load.wheelKw).toBeLessThan(60);
    expect(load.inertiaKw).toBe(0);
  });

  it('adds climbing power on a grade and gives power back downhill and when braking', () => {
    const v = 10;
    expect(roadLoad(truck, v, v, 1, 0.04).wheelKw).toBeGreaterThan(roadLoad(truck, v, v, 1, 0).wheelKw + 60);
    expect(roadLoad(truck, v, v, 1, -0.06).wheelKw).toBeLessThan(0);
    expect(roadLoad(truck, 10, 8, 1, 0).wheelKw).toBeLessThan(0);
  });

  it('regenerates only on electric drives', () => {
    expect(splitDrive(-50, true, 100).regenKw).toBeCloseTo(50 * 0.65);
    expect(splitDrive(-50, true, 20).regenKw).toBe(20);
    expect(splitDrive(-50, false, 100)).toEqual({ tractionKw: 0, regenKw: 0 });
  });

  it('converts with realistic efficiencies', () => {
    // Diesel: ~205 g/kWh at full load, worse at part load.
    expect(bsfcGPerKwh(1)).toBeCloseTo(205, 0);
    expect(bsfcGPerKwh(0.2)).toBeGreaterThan(bsfcGPerKwh(0.8));
    // Fuel cell: 40–60 % net, so 0.05–0.075 kg H2 per kWh.
    for (const load of [0.1, 0.5, 1]) {
      expect(fuelCellEfficiency(load)).toBeGreaterThan(0.4);
      expect(fuelCellEfficiency(load)).toBeLessThan(0.6);
    }
    expect(hydrogenRateKgph(50, 100)).toBeGreaterThan(50 * 0.05);
    expect(hydrogenRateKgph(50, 100)).toBeLessThan(50 * 0.075);
  });
});

describe('a day of the fleet', () => {
  it.each(vehicleClass('road_sweeper').powertrains)('a %s sweeper spends 10–60 %% of its energy on the upper body', (powertrain) => {
    const samples = day('road_sweeper', powertrain);
    const traction = delta(samples, 'traction_kwh');
    const body = delta(samples, 'body_kwh');
    expect(body).toBeGreaterThan(0);
    const share = body / (traction + body);
    expect(share).toBeGreaterThan(0.1);
    expect(share).toBeLessThan(0.6);
    // And it sweeps at 5–10 km/h with brushes and fan on.
    const sweeping = samples.filter((s) => s.body?.active && (s.body.signals?.['brush_rpm'] as number) > 0 && (s.position?.speed_kmh ?? 0) > 2);
    expect(sweeping.length).toBeGreaterThan(100);
    for (const s of sweeping) {
      expect(s.position?.speed_kmh).toBeLessThanOrEqual(12);
      expect(s.body?.signals?.['fan_rpm']).toBeGreaterThan(0);
    }
  });

  it.each(allCombinations().filter((c) => c.powertrain === 'fcev').map((c) => c.model.type))('a fuel-cell %s burns hydrogen and no diesel', (type) => {
    const samples = day(type, 'fcev');
    expect(delta(samples, 'h2_used_kg')).toBeGreaterThan(0.5);
    expect(delta(samples, 'fuel_used_l')).toBe(0);
    expect(delta(samples, 'engine_hours')).toBe(0);
    expect(samples.every((s) => s.fuel === undefined)).toBe(true);
  });

  it.each(allCombinations().map((c) => [c.model.type, c.powertrain] as const))('%s / %s regenerates only with an electric drive', (type, powertrain) => {
    const samples = day(type, powertrain);
    const regen = delta(samples, 'regen_kwh');
    if (powertrain === 'ice') expect(regen).toBe(0);
    else if (delta(samples, 'traction_kwh') > 10) expect(regen).toBeGreaterThan(0);
    // Never more energy back than went in.
    expect(regen).toBeLessThan(delta(samples, 'traction_kwh') + 1e-9);
  });

  it.each(vehicleClass('refrigerated_truck').powertrains)('a %s reefer draws body power while parked and holds its setpoint', (powertrain) => {
    const samples = day('refrigerated_truck', powertrain);
    // 00:00–05:00 local: parked at the cold store (from the second sample: the first precedes any simulated step).
    const night = samples.slice(1).filter((s) => Date.parse(String(s.ts)) < MIDNIGHT_LOCAL + 5 * 3_600_000);
    expect(night.every((s) => s.position?.speed_kmh === 0)).toBe(true);
    expect(night.every((s) => (s.body?.power_kw ?? 0) > 0 && s.body?.active === true)).toBe(true);
    expect(delta(night, 'body_kwh')).toBeGreaterThan(1);
    for (const s of samples) {
      const box = s.body?.signals?.['box_temp_c'] as number;
      const setpoint = s.body?.signals?.['setpoint_c'] as number;
      expect(Math.abs(box - setpoint)).toBeLessThan(8);
    }
  });

  it('charges battery vehicles at the depot: charged_kwh grows and soc rises', () => {
    const samples = day('road_sweeper', 'bev');
    expect(delta(samples, 'charged_kwh')).toBeGreaterThan(50);
    const charging = samples.filter((s) => s.state === 'charging');
    expect(charging.length).toBeGreaterThan(10);
    const first = charging[0]?.battery?.soc_pct ?? 0;
    const last = charging[charging.length - 1]?.battery?.soc_pct ?? 0;
    expect(last).toBeGreaterThan(first);
  });

  it('runs a fire engine through standby, dispatch at speed and pumping at the scene', () => {
    const m = vehicleClass('fire_engine');
    const v = new SimulatedVehicle({ id: 'E-FIR-ice', type: 'fire_engine', bodyType: m.bodyType, powertrain: 'ice' }, { seed: 'fire', startMs: MIDNIGHT_LOCAL });
    const { samples, events } = v.advanceTo(MIDNIGHT_LOCAL + 3 * DAY);
    expect(events.some((e) => e.kind === 'incident' && e.code === 'DISPATCH')).toBe(true);
    expect(samples.some((s) => (s.position?.speed_kmh ?? 0) > 40)).toBe(true);
    const pumping = samples.filter((s) => (s.body?.signals?.['pump_lpm'] as number) > 0);
    expect(pumping.length).toBeGreaterThan(10);
    for (const s of pumping) {
      expect(s.position?.speed_kmh).toBe(0);
      expect(s.body?.signals?.['pump_pressure_bar']).toBeGreaterThanOrEqual(8);
    }
  });

  it('reports tank pressure and temperature on a tanker', () => {
    const samples = day('hazmat_tanker', 'ice');
    for (const s of samples) {
      expect(typeof s.body?.signals?.['tank_pressure_bar']).toBe('number');
      expect(typeof s.body?.signals?.['tank_temp_c']).toBe('number');
    }
  });
});
