// The benchmark's fleet: vehicle definitions from the simulator's fleet mix, deterministic per-vehicle secrets,
// realistic samples (the simulator's vehicle models), and seeding of the registry (tenant, vehicles, API key)
// through the repositories.
import { createHash, createHmac } from 'node:crypto';
import type { TelemetrySample } from '@fleet/contracts';
import { ApiKeyRepository, type DB, TenantRepository, VehicleRepository } from '@fleet/db';
import type { Kysely } from 'kysely';
import { createApiKey } from '../../../apps/query/src/auth/api-key-admin.js';
import { type FleetVehicle, fleetDefinition, SimulatedVehicle } from '../../../simulators/src/index.js';

export const BENCH_TENANT = { id: 'bench', name: 'benchmark fleet' } as const;
const SEED = 'specfleet-bench';

export function benchFleet(count: number): FleetVehicle[] {
  return fleetDefinition(SEED, count, undefined, { idPrefix: 'BN' });
}

/** A vehicle's MQTT secret: derived from its id so every process of a run (and the load generator) knows it. */
export function vehicleSecret(id: string): string {
  return createHmac('sha256', SEED).update(id).digest('base64url');
}

/** Registers the tenant, the vehicles (with secret digests) and an operator API key; returns the key. */
export async function seedRegistry(db: Kysely<DB>, fleet: readonly FleetVehicle[], onProgress?: (done: number) => void): Promise<string> {
  await new TenantRepository(db).upsert(BENCH_TENANT);
  const vehicles = new VehicleRepository(db);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < fleet.length) {
      const v = fleet[next++]!;
      await vehicles.create({
        id: v.id,
        tenantId: BENCH_TENANT.id,
        type: v.type,
        bodyType: v.bodyType,
        powertrain: v.powertrain,
        reportIntervalS: 10,
        secretDigest: createHash('sha256').update(vehicleSecret(v.id), 'utf8').digest(),
      });
      done++;
      if (done % 500 === 0) onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const { key } = await createApiKey(new ApiKeyRepository(db), BENCH_TENANT.id, 'operator', 'benchmark');
  return key;
}

/**
 * One realistic sample per vehicle (the simulator's model after a few minutes of its duty cycle), used as the shape
 * of every message the load generator sends: only ts, seq and the counters change from message to message.
 */
export function sampleTemplates(fleet: readonly FleetVehicle[], startMs: number): Map<string, TelemetrySample> {
  const out = new Map<string, TelemetrySample>();
  for (const v of fleet) {
    const sim = new SimulatedVehicle(v, { seed: SEED, startMs, reportIntervalS: 10, maxStepS: 5 });
    const { samples } = sim.advanceTo(startMs + 30 * 60_000);
    // A working or driving sample if there is one: it carries the most blocks (position, body, energy).
    const pick = [...samples].reverse().find((s) => s.state === 'working' || s.state === 'driving') ?? samples[samples.length - 1];
    if (pick) out.set(v.id, pick);
  }
  return out;
}

/** The k-th message of a vehicle: the template with its ts and seq, counters advanced as if it kept working. */
export function nthSample(template: TelemetrySample, seq: number, tsMs: number): TelemetrySample {
  const e = template.energy;
  const step = seq * 0.001;
  return {
    ...template,
    ts: new Date(tsMs).toISOString(),
    seq,
    ...(template.odometer_km !== undefined ? { odometer_km: round3(template.odometer_km + step) } : {}),
    ...(e ? { energy: { ...e, ...(e.traction_kwh !== undefined ? { traction_kwh: round3(e.traction_kwh + step) } : {}) } } : {}),
  };
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/**
 * A vehicle's history at a fixed interval from the simulator (coarse steps: one physics step per sample), for seeding
 * energy and fleet-status data, read forward in time: each call returns the samples up to `untilMs` (exclusive of
 * `toMs`) that the previous calls did not. The samples do not depend on how the time is sliced (the simulator is
 * deterministic per seed and time, simulators/src/determinism.spec.ts).
 */
export function historyCursor(v: FleetVehicle, fromMs: number, toMs: number, intervalS: number): (untilMs: number) => TelemetrySample[] {
  const sim = new SimulatedVehicle(v, { seed: SEED, startMs: fromMs, reportIntervalS: intervalS, maxStepS: Math.min(intervalS, 60), alarms: {} });
  return (untilMs) => sim.advanceTo(Math.min(untilMs, toMs - 1)).samples;
}

/** A vehicle's whole history (historyCursor) in consecutive chunks of `chunkMs`, so the caller never holds a month in memory. */
export function simulateHistory(
  v: FleetVehicle,
  fromMs: number,
  toMs: number,
  intervalS: number,
  chunkMs: number,
  each: (samples: TelemetrySample[]) => void,
): void {
  const next = historyCursor(v, fromMs, toMs, intervalS);
  for (let t = fromMs + chunkMs; ; t += chunkMs) {
    const samples = next(t);
    if (samples.length > 0) each(samples);
    if (t >= toMs - 1) return;
  }
}

/**
 * `JSON.stringify(nthSample(template, seq, tsMs))` for one template, as string concatenation: the generator's payload
 * builder (a spread, an ISO date and a stringify of the whole sample per message cost it more CPU than the
 * concatenation). Checked against nthSample when built, so the two cannot drift apart.
 */
export function sampleJsonWriter(template: TelemetrySample): (seq: number, tsMs: number) => string {
  const marks = { ts: '\u0001TS\u0001', seq: '\u0001SEQ\u0001', odo: '\u0001ODO\u0001', trac: '\u0001TRAC\u0001' };
  const probe = nthSample(template, 1, 0) as unknown as Record<string, unknown>;
  const marked: Record<string, unknown> = { ...probe, ts: marks.ts, seq: marks.seq };
  if (probe['odometer_km'] !== undefined) marked['odometer_km'] = marks.odo;
  const energy = probe['energy'] as Record<string, unknown> | undefined;
  if (energy?.['traction_kwh'] !== undefined) marked['energy'] = { ...energy, traction_kwh: marks.trac };
  // Split on the quoted marks: each value is spliced in bare (numbers) or re-quoted (the ISO timestamp).
  const json = JSON.stringify(marked);
  const order: Array<keyof typeof marks> = [];
  const parts: string[] = [];
  let rest = json;
  for (;;) {
    let next: { key: keyof typeof marks; at: number } | undefined;
    for (const key of Object.keys(marks) as Array<keyof typeof marks>) {
      const at = rest.indexOf(JSON.stringify(marks[key]));
      if (at >= 0 && (next === undefined || at < next.at)) next = { key, at };
    }
    if (next === undefined) break;
    parts.push(rest.slice(0, next.at));
    order.push(next.key);
    rest = rest.slice(next.at + JSON.stringify(marks[next.key]).length);
  }
  parts.push(rest);
  const odo0 = template.odometer_km ?? 0;
  const trac0 = template.energy?.traction_kwh ?? 0;
  const write = (seq: number, tsMs: number): string => {
    let out = parts[0]!;
    for (let i = 0; i < order.length; i++) {
      const key = order[i]!;
      out += key === 'ts' ? `"${new Date(tsMs).toISOString()}"` : key === 'seq' ? `${seq}` : key === 'odo' ? `${round3(odo0 + seq * 0.001)}` : `${round3(trac0 + seq * 0.001)}`;
      out += parts[i + 1]!;
    }
    return out;
  };
  for (const [seq, ts] of [[1, 0], [7, 1_764_000_000_123], [123_456, 1_764_999_999_999]] as const) {
    const expected = JSON.stringify(nthSample(template, seq, ts));
    if (write(seq, ts) !== expected) throw new Error(`sampleJsonWriter: differs from nthSample for seq ${seq}: ${write(seq, ts)} vs ${expected}`);
  }
  return write;
}
