import type { TelemetrySample } from '@fleet/contracts';
import { describe, expect, it } from 'vitest';
import { countersOf, toEventRow, toTelemetryRow } from './rows.js';

const T = Date.UTC(2026, 10, 26, 8);

describe('toTelemetryRow', () => {
  it('maps every block of the SPEC §3 example to its column', () => {
    const sample: TelemetrySample = {
      v: 1,
      ts: '2026-11-26T08:00:00.000Z',
      seq: 1042,
      position: { lat: 31.6902, lon: 113.3824, alt_m: 96.5, heading_deg: 270, speed_kmh: 32.5 },
      odometer_km: 15234.2,
      state: 'working',
      battery: { soc_pct: 78.5, voltage_v: 614.2, current_a: 32.1, temp_max_c: 31, temp_min_c: 24.5, cell_v_max: 3.412, cell_v_min: 3.398, soh_pct: 96 },
      hydrogen: { mass_kg: 12.4, pressure_mpa: 31.5, fc_power_kw: 42, fc_temp_c: 68 },
      fuel: { level_pct: 64, rate_lph: 18.2, engine_rpm: 1450, coolant_c: 88 },
      energy: { traction_kwh: 18234.5, body_kwh: 4210.2, regen_kwh: 2100.3, charged_kwh: 24100, h2_used_kg: 1520.3, fuel_used_l: 0, engine_hours: 0 },
      body: { type: 'sweeper', active: true, power_kw: 18.5, hours: 2210.4, signals: { brush_rpm: 120, water_l: 1800 } },
      dtc: ['P0A80', 'SPN520-FMI3'],
    };
    const received = new Date(T + 5);
    const row = toTelemetryRow('SZ-SAN-0001', sample, T, received);
    expect(row).toMatchObject({
      vehicle_id: 'SZ-SAN-0001',
      ts: new Date(T),
      seq: 1042,
      received_at: received,
      lat: 31.6902,
      heading_deg: 270,
      odometer_km: 15234.2,
      soc_pct: 78.5,
      battery_current_a: 32.1,
      h2_pressure_mpa: 31.5,
      fuel_rate_lph: 18.2,
      traction_kwh: 18234.5,
      fuel_used_l: 0,
      body_type: 'sweeper',
      body_active: true,
      body_hours: 2210.4,
      body_signals: { brush_rpm: 120, water_l: 1800 },
      dtc: ['P0A80', 'SPN520-FMI3'],
    });
    expect(countersOf(row)).toEqual({
      distance_km: 15234.2,
      traction_kwh: 18234.5,
      body_kwh: 4210.2,
      regen_kwh: 2100.3,
      charged_kwh: 24100,
      h2_kg: 1520.3,
      fuel_l: 0,
      engine_hours: 0,
      body_hours: 2210.4,
    });
  });

  it('leaves absent blocks null (a zero counter stays 0, not null)', () => {
    const row = toTelemetryRow('V', { v: 1, ts: T, seq: 1, energy: { engine_hours: 0 } }, T, new Date(T));
    expect(row.lat).toBeNull();
    expect(row.body_signals).toBeNull();
    expect(countersOf(row).engine_hours).toBe(0);
    expect(countersOf(row).traction_kwh).toBeNull();
  });
});

describe('toEventRow', () => {
  it('maps an alarm event', () => {
    const row = toEventRow('V', { v: 1, ts: T, seq: 77, kind: 'alarm', code: 'BATTERY_HIGH_TEMP', level: 3, active: true, message: 'pack 62 °C', data: { temp_max_c: 62 } }, T, new Date(T));
    expect(row).toMatchObject({ vehicle_id: 'V', seq: 77, kind: 'alarm', code: 'BATTERY_HIGH_TEMP', level: 3, active: true, data: { temp_max_c: 62 } });
  });
});
