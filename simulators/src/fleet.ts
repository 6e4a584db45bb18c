// Runs a simulated fleet against a broker: every vehicle is its own MQTT client (firmware/vehicle-client.ts) fed by
// its model (simulated-vehicle.ts) through the fault injector. Two modes share this setup: live (`startFleet`,
// simulated time runs `speed` times faster than the wall clock) and backfill (`runBackfill`, history as fast as the
// broker acknowledges it, bounded by a fleet-wide in-flight window).
import type { AlarmRates } from './alarms.js';
import { FaultInjector, NO_FAULTS, emptyFaultCounts, type FaultCounts, type FaultRates } from './faults.js';
import { InflightWindow, VehicleClient, type VehicleCredentials } from './firmware/vehicle-client.js';
import { fleetDefinition, type FleetVehicle, type MixEntry } from './fleet-definition.js';
import { Rng } from './random.js';
import { SimulatedVehicle } from './simulated-vehicle.js';

export const FIRMWARE_VERSION = '1.4.2';

export type CredentialSource = Record<string, string | Partial<VehicleCredentials>>;

export interface FleetOptions {
  /** Broker URL, e.g. mqtt://127.0.0.1:1883. */
  url: string;
  seed?: string | number;
  /** The vehicles to run; default `fleetDefinition(seed, count, mix, { idPrefix })`. */
  vehicles?: readonly FleetVehicle[];
  count?: number;
  mix?: string | readonly MixEntry[];
  idPrefix?: string;
  /** Per-vehicle secrets (or full credentials) by vehicle id. */
  credentials?: CredentialSource;
  /** Secret for vehicles missing from `credentials` (an anonymous test broker ignores it). */
  password?: string;
  /** Simulated seconds per wall-clock second (live mode). Default 1. */
  speed?: number;
  /** Simulated time at the start, epoch ms. Default: now, or with speed > 1 in the past (liveStartMs); never runs past the wall clock. */
  startMs?: number;
  /** Wall-clock run time, ms (live mode); default until stop(). */
  durationMs?: number;
  /** Seconds between samples; default the class's (10 s) live, 60 s in backfill. */
  reportIntervalS?: number;
  faults?: Partial<FaultRates>;
  alarms?: Partial<AlarmRates>;
  /** Store-and-forward capacity per vehicle, samples. Default 5000. */
  bufferCapacity?: number;
  /** Messages awaiting PUBACK per vehicle. Default 8 (live), 4 (backfill). */
  inflight?: number;
  maxBatchBytes?: number;
  fw?: string;
  /** Live-mode tick of the simulated clock, ms. Default 200. */
  tickMs?: number;
  /** Connections are opened spread over this time, ms, so a big fleet does not hit the broker at once. */
  connectSpreadMs?: number;
  backoff?: { initialMs: number; maxMs: number };
  log?: (message: string) => void;
}

export interface FleetStats {
  vehicles: number;
  connected: number;
  /** Simulated time reached (the slowest vehicle), ISO-8601. */
  simTime: string;
  samplesGenerated: number;
  eventsGenerated: number;
  samplesAcked: number;
  eventsAcked: number;
  messagesAcked: number;
  bytesAcked: number;
  buffered: number;
  dropped: number;
  connects: number;
  failedConnects: number;
  faults: FaultCounts;
}

export interface FleetHandle {
  readonly vehicles: readonly FleetVehicle[];
  stats(): FleetStats;
  /** Stops the clock, flushes (bounded), publishes offline statuses and disconnects. */
  stop(): Promise<FleetStats>;
  /** Resolves when the fleet has stopped (after `durationMs`, or stop()). */
  readonly done: Promise<FleetStats>;
}

interface Unit {
  vehicle: FleetVehicle;
  sim: SimulatedVehicle;
  client: VehicleClient;
  faults: FaultInjector;
}

interface Shared {
  units: Unit[];
  counts: FaultCounts;
  generated: { samples: number; events: number };
}

function resolveCredentials(v: FleetVehicle, options: FleetOptions): VehicleCredentials {
  const entry = options.credentials?.[v.id];
  const base: VehicleCredentials = { username: v.id, clientId: v.id, password: options.password ?? '' };
  if (entry === undefined) return base;
  if (typeof entry === 'string') return { ...base, password: entry };
  return { ...base, ...entry };
}

function buildUnits(options: FleetOptions, seed: string, startMs: number, mode: 'live' | 'backfill', window?: InflightWindow): Shared {
  const vehicles = options.vehicles ?? fleetDefinition(seed, options.count, options.mix, options.idPrefix ? { idPrefix: options.idPrefix } : {});
  const rates: FaultRates = { ...NO_FAULTS, ...options.faults };
  const counts = emptyFaultCounts();
  const units = vehicles.map((vehicle) => {
    const sim = new SimulatedVehicle(vehicle, {
      seed,
      startMs,
      ...(options.reportIntervalS !== undefined ? { reportIntervalS: options.reportIntervalS } : mode === 'backfill' ? { reportIntervalS: 60 } : {}),
      maxStepS: mode === 'backfill' ? 5 : 1,
      ...(options.alarms ? { alarms: options.alarms } : {}),
    });
    const faults = new FaultInjector(seed, vehicle.id, rates, counts);
    const client = new VehicleClient({
      url: options.url,
      vehicleId: vehicle.id,
      credentials: resolveCredentials(vehicle, options),
      fw: options.fw ?? FIRMWARE_VERSION,
      rng: Rng.stream(seed, vehicle.id, 'firmware'),
      bufferCapacity: options.bufferCapacity ?? 5000,
      maxBatch: 1000,
      maxBatchBytes: options.maxBatchBytes ?? 200 * 1024,
      inflight: options.inflight ?? (mode === 'backfill' ? 4 : 8),
      ...(window ? { window } : {}),
      ...(options.backoff ? { backoff: options.backoff } : {}),
      wrongCredentials: () => faults.wrongCredentials(),
      ...(options.log ? { log: options.log } : {}),
    });
    return { vehicle, sim, client, faults };
  });
  return { units, counts, generated: { samples: 0, events: 0 } };
}

/** Moves one vehicle's model to `targetMs` and hands what it produced (through the faults) to its client. */
function advance(unit: Unit, targetMs: number, generated: Shared['generated']): void {
  const { samples, events } = unit.sim.advanceTo(targetMs);
  const faulty = unit.faults.active;
  for (const s of samples) {
    generated.samples++;
    if (!faulty) {
      unit.client.sendSample(JSON.stringify(s));
      continue;
    }
    const out = unit.faults.sample(s);
    for (const json of out.samples) unit.client.sendSample(json);
    for (const raw of out.raw) unit.client.sendRaw(raw);
  }
  for (const e of events) {
    generated.events++;
    unit.client.sendEvent(JSON.stringify(unit.faults.event(e)));
  }
}

function collect(shared: Shared): FleetStats {
  const s: FleetStats = {
    vehicles: shared.units.length,
    connected: 0,
    simTime: '',
    samplesGenerated: shared.generated.samples,
    eventsGenerated: shared.generated.events,
    samplesAcked: 0,
    eventsAcked: 0,
    messagesAcked: 0,
    bytesAcked: 0,
    buffered: 0,
    dropped: 0,
    connects: 0,
    failedConnects: 0,
    faults: { ...shared.counts },
  };
  let slowest = Infinity;
  for (const u of shared.units) {
    const c = u.client.stats;
    if (c.connected) s.connected++;
    s.samplesAcked += c.samplesAcked;
    s.eventsAcked += c.eventsAcked;
    s.messagesAcked += c.messagesAcked;
    s.bytesAcked += c.bytesAcked;
    s.buffered += c.buffered;
    s.dropped += c.dropped;
    s.connects += c.connects;
    s.failedConnects += c.failedConnects;
    slowest = Math.min(slowest, u.sim.nowMs);
  }
  s.simTime = Number.isFinite(slowest) ? new Date(slowest).toISOString() : '';
  return s;
}

async function stopUnits(shared: Shared, drainTimeoutMs: number): Promise<void> {
  for (const u of shared.units) for (const json of u.faults.drain()) u.client.sendSample(json);
  await Promise.all(shared.units.map((u) => u.client.stop(drainTimeoutMs)));
}

function connectSpread(units: Unit[], spreadMs: number): NodeJS.Timeout[] {
  return units.map((u, i) => setTimeout(() => u.client.start(), units.length > 1 ? (spreadMs * i) / units.length : 0));
}

/** History a faster live fleet replays before it runs with the clock, when neither a start nor a duration is given. */
const CATCH_UP_MAX_MS = 24 * 3_600_000;

/**
 * Where a live fleet's simulated time starts. A live fleet never reports from the future (ingestion dead-letters a
 * sample more than TS_MAX_FUTURE_S ahead as TS_IN_FUTURE), so time `speed` times faster has to start in the past:
 * with a duration, early enough to reach the wall clock as the run ends; without one, (speed − 1) hours back, at most a
 * day, which it replays in at most an hour before it runs with the clock (see simulatedNow).
 */
export function liveStartMs(wallStart: number, speed: number, durationMs?: number): number {
  const back = speed > 1 ? (durationMs !== undefined ? durationMs * (speed - 1) : Math.min(CATCH_UP_MAX_MS, 3_600_000 * (speed - 1))) : 0;
  return Math.floor((wallStart - back) / 1000) * 1000;
}

/** Simulated time `elapsedMs` into a live run: `speed` times the wall clock's pace from `startMs`, never past `wallNow`. */
export function simulatedNow(startMs: number, speed: number, elapsedMs: number, wallNow: number): number {
  return Math.min(startMs + elapsedMs * speed, Math.max(startMs, wallNow));
}

/**
 * Starts a live fleet: connects every vehicle and advances simulated time `speed` times faster than the wall clock,
 * never past it (liveStartMs, simulatedNow), until `durationMs` has passed or stop() is called. The wall clock only
 * drives the pace; the data comes from the seed and the simulated time.
 */
export function startFleet(options: FleetOptions): FleetHandle {
  const seed = String(options.seed ?? 1);
  const speed = options.speed ?? 1;
  if (!(speed > 0)) throw new RangeError('speed must be positive');
  const wallStart = Date.now();
  const startMs = options.startMs ?? liveStartMs(wallStart, speed, options.durationMs);
  const shared = buildUnits(options, seed, startMs, 'live');
  const realStart = performance.now();
  const timers = connectSpread(shared.units, options.connectSpreadMs ?? Math.min(5000, shared.units.length * 20));
  const simNow = (): number => simulatedNow(startMs, speed, performance.now() - realStart, Date.now());
  const tick = setInterval(() => {
    const target = simNow();
    for (const u of shared.units) advance(u, target, shared.generated);
  }, options.tickMs ?? 200);
  let resolveDone!: (s: FleetStats) => void;
  const done = new Promise<FleetStats>((r) => (resolveDone = r));
  let stopping: Promise<FleetStats> | undefined;
  const stop = (): Promise<FleetStats> => {
    stopping ??= (async () => {
      clearInterval(tick);
      clearTimeout(endTimer);
      for (const t of timers) clearTimeout(t);
      await stopUnits(shared, 5000);
      const final = collect(shared);
      resolveDone(final);
      return final;
    })();
    return stopping;
  };
  const endTimer = options.durationMs !== undefined ? setTimeout(() => void stop(), options.durationMs) : undefined;
  return { vehicles: shared.units.map((u) => u.vehicle), stats: () => collect(shared), stop, done };
}

export interface BackfillOptions extends FleetOptions {
  /** How much history, ms (e.g. 30 days). */
  spanMs: number;
  /** End of the history, epoch ms; default now. */
  endMs?: number;
  /** Messages awaiting PUBACK across the whole fleet. Default 256. */
  window?: number;
  /** Called about twice a second with the progress so far. */
  onProgress?: (p: BackfillProgress) => void;
}

export interface BackfillProgress {
  /** 0..1 of simulated vehicle-time generated and acknowledged. */
  fraction: number;
  samplesAcked: number;
  samplesGenerated: number;
  elapsedMs: number;
  stats: FleetStats;
}

export interface BackfillSummary extends FleetStats {
  from: string;
  to: string;
  elapsedMs: number;
  samplesPerSecond: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Publishes `spanMs` of history for the fleet as fast as the broker acknowledges it, then disconnects. */
export async function runBackfill(options: BackfillOptions): Promise<BackfillSummary> {
  const seed = String(options.seed ?? 1);
  const endMs = Math.floor((options.endMs ?? Date.now()) / 1000) * 1000;
  const startMs = options.startMs ?? endMs - options.spanMs;
  const window = new InflightWindow(options.window ?? 256);
  const shared = buildUnits({ ...options, bufferCapacity: options.bufferCapacity ?? 50_000 }, seed, startMs, 'backfill', window);
  const began = performance.now();
  const timers = connectSpread(shared.units, options.connectSpreadMs ?? Math.min(5000, shared.units.length * 5));
  const totalMs = Math.max(1, (endMs - startMs) * shared.units.length);
  const progress = (): BackfillProgress => {
    let done = 0;
    for (const u of shared.units) done += Math.min(endMs, u.sim.nowMs) - startMs;
    const stats = collect(shared);
    const sent = stats.samplesGenerated > 0 ? stats.samplesAcked / stats.samplesGenerated : 0;
    return { fraction: (done / totalMs) * Math.min(1, sent), samplesAcked: stats.samplesAcked, samplesGenerated: stats.samplesGenerated, elapsedMs: performance.now() - began, stats };
  };
  const reporter = options.onProgress ? setInterval(() => options.onProgress?.(progress()), 500) : undefined;
  const batch = 1000;
  try {
    await Promise.all(
      shared.units.map(async (u) => {
        const chunkMs = batch * u.sim.reportIntervalS * 1000;
        while (u.sim.nowMs + u.sim.stepS * 1000 <= endMs) {
          // Generate only as fast as the client gets acknowledgements: at most two batches waiting per vehicle.
          while (u.client.backlog >= 2 * batch) await sleep(10);
          advance(u, Math.min(endMs, u.sim.nowMs + chunkMs), shared.generated);
          await sleep(0);
        }
        for (const json of u.faults.drain()) u.client.sendSample(json);
        while (!(await u.client.drained(60_000))) {
          // Still disconnected or slow: keep waiting; the client reconnects on its own.
        }
      }),
    );
  } finally {
    if (reporter) clearInterval(reporter);
    for (const t of timers) clearTimeout(t);
    options.onProgress?.(progress());
    await stopUnits(shared, 10_000);
  }
  const elapsedMs = performance.now() - began;
  const stats = collect(shared);
  return {
    ...stats,
    from: new Date(startMs).toISOString(),
    to: new Date(endMs).toISOString(),
    elapsedMs,
    samplesPerSecond: stats.samplesAcked / Math.max(0.001, elapsedMs / 1000),
  };
}
