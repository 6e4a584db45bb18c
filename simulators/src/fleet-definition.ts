// Which vehicles a simulated fleet has: ids, classes and powertrains from a size, a mix and a seed. The embedded
// launcher calls this too, to provision exactly the vehicles the simulator will connect.
import type { BodyType } from '@fleet/contracts';
import { POWERTRAINS, type Powertrain } from './energy/powertrain.js';
import { Rng } from './random.js';
import { VEHICLE_CLASSES, allCombinations, findVehicleClass } from './vehicles/index.js';
import type { VehicleClassModel, VehicleType } from './vehicles/vehicle-class.js';

export interface FleetVehicle {
  id: string;
  type: VehicleType;
  bodyType: BodyType;
  powertrain: Powertrain;
}

/** One entry of --mix: `sweeper=10` or `sweeper:bev=4` (class alias or type, optional powertrain). */
export interface MixEntry {
  model: VehicleClassModel;
  powertrain?: Powertrain;
  count: number;
}

/** Parses `sweeper=10,bus:fcev=5,…`; throws a RangeError naming the bad part. */
export function parseMix(text: string): MixEntry[] {
  const entries: MixEntry[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-z_]+)(?::([a-z]+))?=(\d+)$/.exec(part);
    if (!m) throw new RangeError(`--mix: "${part}" is not class[:powertrain]=count`);
    const [, name, powertrain, count] = m as unknown as [string, string, string | undefined, string];
    const model = findVehicleClass(name);
    if (!model) throw new RangeError(`--mix: unknown class "${name}" (known: ${VEHICLE_CLASSES.map((c) => c.alias).join(', ')})`);
    if (powertrain !== undefined) {
      if (!(POWERTRAINS as readonly string[]).includes(powertrain)) throw new RangeError(`--mix: unknown powertrain "${powertrain}"`);
      if (!model.powertrains.includes(powertrain as Powertrain)) {
        throw new RangeError(`--mix: ${model.alias} is built with ${model.powertrains.join('/')}, not ${powertrain}`);
      }
    }
    entries.push({ model, ...(powertrain ? { powertrain: powertrain as Powertrain } : {}), count: Number(count) });
  }
  if (entries.length === 0) throw new RangeError('--mix: empty');
  return entries;
}

export interface FleetDefinitionOptions {
  /** First part of every id: `SZ` gives SZ-SWP-0001. */
  idPrefix?: string;
}

/**
 * The fleet for a seed, a size and a mix. Without a mix, every class × powertrain pair in turn (so 28 vehicles hold
 * one of each); with a mix, its counts, scaled to `count` when given (largest remainder). Within a class without an
 * explicit powertrain the powertrains alternate, starting at a seeded offset.
 */
export function fleetDefinition(seed: string | number, count?: number, mix?: string | readonly MixEntry[], options: FleetDefinitionOptions = {}): FleetVehicle[] {
  const prefix = options.idPrefix ?? 'SZ';
  const rng = Rng.stream(String(seed), 'fleet');
  const picks: Array<{ model: VehicleClassModel; powertrain: Powertrain }> = [];
  if (mix === undefined || (typeof mix === 'string' && mix.trim() === '')) {
    const combos = allCombinations();
    const n = count ?? combos.length;
    for (let i = 0; i < n; i++) picks.push(combos[i % combos.length] as (typeof combos)[number]);
  } else {
    const entries = typeof mix === 'string' ? parseMix(mix) : mix;
    const counts = scale(entries.map((e) => e.count), count);
    entries.forEach((entry, i) => {
      const offset = rng.int(0, entry.model.powertrains.length - 1);
      for (let k = 0; k < (counts[i] as number); k++) {
        const powertrain = entry.powertrain ?? (entry.model.powertrains[(offset + k) % entry.model.powertrains.length] as Powertrain);
        picks.push({ model: entry.model, powertrain });
      }
    });
  }
  const numbers = new Map<string, number>();
  return picks.map(({ model, powertrain }) => {
    const n = (numbers.get(model.code) ?? 0) + 1;
    numbers.set(model.code, n);
    return { id: `${prefix}-${model.code}-${String(n).padStart(4, '0')}`, type: model.type, bodyType: model.bodyType, powertrain };
  });
}

/** Scales counts to a total by largest remainder; unchanged when no total is given. */
function scale(counts: number[], total: number | undefined): number[] {
  if (total === undefined) return counts;
  const sum = counts.reduce((a, b) => a + b, 0);
  if (sum === 0) return counts.map(() => 0);
  const exact = counts.map((c) => (c * total) / sum);
  const floors = exact.map(Math.floor);
  let left = total - floors.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left-- <= 0) break;
    floors[i] = (floors[i] as number) + 1;
  }
  return floors;
}
