// Same seed ⇒ same fleet and same data; the fleet definition covers every class × powertrain by default.
import { describe, expect, it } from 'vitest';
import { fleetDefinition, parseMix } from './fleet-definition.js';
import { SimulatedVehicle } from './simulated-vehicle.js';
import { allCombinations } from './vehicles/index.js';

const START = Date.parse('2026-11-26T00:00:00Z');

function run(seed: string, hours: number): string {
  return fleetDefinition(seed, 12)
    .map((v) => JSON.stringify(new SimulatedVehicle(v, { seed, startMs: START, alarms: { alarmsPerHour: 1, dtcsPerHour: 1 } }).advanceTo(START + hours * 3_600_000)))
    .join('\n');
}

describe('determinism', () => {
  it('gives identical samples and events for the same seed', () => {
    expect(run('42', 3)).toBe(run('42', 3));
  });

  it('gives different data for another seed', () => {
    expect(run('42', 1)).not.toBe(run('43', 1));
  });

  it('does not depend on how the time is sliced into advanceTo calls', () => {
    const [def] = fleetDefinition('7', 1);
    if (!def) throw new Error('no vehicle');
    const whole = new SimulatedVehicle(def, { seed: '7', startMs: START }).advanceTo(START + 3_600_000);
    const sliced = new SimulatedVehicle(def, { seed: '7', startMs: START });
    const parts = { samples: [] as unknown[], events: [] as unknown[] };
    for (let t = START; t <= START + 3_600_000; t += 7_321) {
      const out = sliced.advanceTo(t);
      parts.samples.push(...out.samples);
      parts.events.push(...out.events);
    }
    const rest = sliced.advanceTo(START + 3_600_000);
    parts.samples.push(...rest.samples);
    parts.events.push(...rest.events);
    expect(JSON.stringify(parts.samples)).toBe(JSON.stringify(whole.samples));
  });
});

describe('fleetDefinition', () => {
  it('holds one of every class × powertrain by default', () => {
    const fleet = fleetDefinition(1);
    expect(fleet).toHaveLength(allCombinations().length);
    const pairs = new Set(fleet.map((v) => `${v.type}/${v.powertrain}`));
    expect(pairs.size).toBe(allCombinations().length);
    expect(new Set(fleet.map((v) => v.id)).size).toBe(fleet.length);
    for (const v of fleet) expect(v.id).toMatch(/^SZ-[A-Z]{3}-\d{4}$/);
  });

  it('is the same for the same seed and follows a mix', () => {
    expect(fleetDefinition('s', 50, 'sweeper=10,bus=5')).toEqual(fleetDefinition('s', 50, 'sweeper=10,bus=5'));
    const fleet = fleetDefinition('s', undefined, 'sweeper=3,bus:fcev=2,reefer=4', { idPrefix: 'T1' });
    expect(fleet.filter((v) => v.type === 'road_sweeper')).toHaveLength(3);
    expect(fleet.filter((v) => v.type === 'sightseeing_bus' && v.powertrain === 'fcev')).toHaveLength(2);
    expect(new Set(fleet.filter((v) => v.type === 'refrigerated_truck').map((v) => v.powertrain)).size).toBe(4);
    expect(fleet[0]?.id).toBe('T1-SWP-0001');
  });

  it('scales mix counts to --vehicles', () => {
    const fleet = fleetDefinition('s', 10, 'sweeper=1,bus=1,tanker=2');
    expect(fleet).toHaveLength(10);
    expect(fleet.filter((v) => v.type === 'hazmat_tanker')).toHaveLength(5);
  });

  it('refuses unknown classes and impossible powertrains', () => {
    expect(() => parseMix('tractor=3')).toThrow(/unknown class/);
    expect(() => parseMix('bus:ice=3')).toThrow(/not ice/);
    expect(() => parseMix('sweeper')).toThrow(/class\[:powertrain\]=count/);
  });
});
