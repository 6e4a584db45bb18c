import { describe, expect, it } from 'vitest';
import { DEFAULT_HEALTH_THRESHOLDS } from '../query.options.js';
import { evaluateHealth, gradeOf, type HealthInput } from './health-rules.js';

const NOW = Date.parse('2026-11-26T08:00:00Z');
const base: HealthInput = {
  powertrain: 'bev',
  connectivity: 'online',
  lastSeen: new Date(NOW - 5_000),
  createdAt: new Date(NOW - 86_400_000 * 30),
  batteryTempMaxC: 30,
  cellVMax: 3.412,
  cellVMin: 3.398,
  sohPct: 96,
  socPct: 78,
  h2MassKg: null,
  h2CapacityKg: null,
  fuelLevelPct: null,
  activeAlarms: {},
  activeDtcs: [],
};
const rules = (v: Partial<HealthInput>, t = DEFAULT_HEALTH_THRESHOLDS) => evaluateHealth({ ...base, ...v }, t, NOW).map((r) => `${r.rule}:${r.severity}`);

describe('health rules', () => {
  it('finds nothing wrong with a healthy vehicle', () => {
    expect(rules({})).toEqual([]);
    expect(gradeOf([])).toBe('ok');
  });
  it('battery_hot: warn from 45 °C, critical from 55 °C', () => {
    expect(rules({ batteryTempMaxC: 44.9 })).toEqual([]);
    expect(rules({ batteryTempMaxC: 45 })).toEqual(['battery_hot:warn']);
    expect(rules({ batteryTempMaxC: 55 })).toEqual(['battery_hot:critical']);
  });
  it('cell_imbalance: spread of cell voltages, warn 100 mV, critical 300 mV', () => {
    expect(rules({ cellVMax: 3.45, cellVMin: 3.36 })).toEqual([]);
    expect(rules({ cellVMax: 3.45, cellVMin: 3.35 })).toEqual(['cell_imbalance:warn']);
    expect(rules({ cellVMax: 3.6, cellVMin: 3.3 })).toEqual(['cell_imbalance:critical']);
  });
  it('low_soh: below 80 % warn, below 70 % critical', () => {
    expect(rules({ sohPct: 80 })).toEqual([]);
    expect(rules({ sohPct: 79.9 })).toEqual(['low_soh:warn']);
    expect(rules({ sohPct: 69 })).toEqual(['low_soh:critical']);
  });
  it('low_energy depends on the powertrain', () => {
    expect(rules({ socPct: 19 })).toEqual(['low_energy:warn']);
    expect(rules({ powertrain: 'fcev', socPct: 5, h2MassKg: 10, h2CapacityKg: 25 })).toEqual([]);
    expect(rules({ powertrain: 'fcev', h2MassKg: 4, h2CapacityKg: 25 })).toEqual(['low_energy:warn']);
    expect(rules({ powertrain: 'fcev', h2MassKg: 0.5 })).toEqual(['low_energy:critical']);
    expect(rules({ powertrain: 'ice', socPct: null, fuelLevelPct: 4 })).toEqual(['low_energy:critical']);
    expect(rules({ powertrain: 'phev', socPct: 2, fuelLevelPct: 50 })).toEqual([]);
  });
  it('active_alarm: level 1–2 warn, level 3 critical, one reason per alarm', () => {
    expect(rules({ activeAlarms: { SOC_LOW: { level: 1, message: null }, H2_LEAK: { level: 3, message: 'leak' } } })).toEqual(['active_alarm:critical', 'active_alarm:warn']);
  });
  it('active_dtc: one or more warn, ten or more critical', () => {
    expect(rules({ activeDtcs: ['P0A80'] })).toEqual(['active_dtc:warn']);
    expect(rules({ activeDtcs: Array.from({ length: 10 }, (_, i) => `P000${i}`) })).toEqual(['active_dtc:critical']);
  });
  it('offline_too_long: only when offline, by the last sample or else the provisioning time', () => {
    expect(rules({ connectivity: 'offline', lastSeen: new Date(NOW - 23 * 3600_000) })).toEqual([]);
    expect(rules({ connectivity: 'offline', lastSeen: new Date(NOW - 25 * 3600_000) })).toEqual(['offline_too_long:warn']);
    expect(rules({ connectivity: 'offline', lastSeen: new Date(NOW - 73 * 3600_000) })).toEqual(['offline_too_long:critical']);
    expect(rules({ connectivity: 'stale', lastSeen: new Date(NOW - 73 * 3600_000) })).toEqual([]);
    expect(rules({ connectivity: 'offline', lastSeen: null, createdAt: new Date(NOW - 60_000) })).toEqual([]);
  });
  it('a null threshold switches a rule off; the grade is the worst reason', () => {
    expect(rules({ batteryTempMaxC: 60 }, { ...DEFAULT_HEALTH_THRESHOLDS, batteryTempWarnC: null, batteryTempCriticalC: null })).toEqual([]);
    const reasons = evaluateHealth({ ...base, sohPct: 75, batteryTempMaxC: 58 }, DEFAULT_HEALTH_THRESHOLDS, NOW);
    expect(gradeOf(reasons)).toBe('critical');
    expect(reasons[0]?.rule).toBe('battery_hot');
  });
});
