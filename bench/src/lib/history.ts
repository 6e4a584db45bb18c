// Seeding history fast: the simulator's samples for many vehicles, written either straight into telemetry with
// TelemetryRepository.copyBatch (history the read side needs, without ingestion's side tables), or through the
// IngestionPipeline (so energy_hourly and vehicle_state are exactly what ingestion makes of them), in one of two
// orders: as a live fleet publishes it (hour after hour, every vehicle's samples of an hour together) or as backlogs
// uploaded one vehicle after another (each vehicle's whole history at once).
import type { TelemetrySample } from '@fleet/contracts';
import { type Database, TelemetryRepository } from '@fleet/db';
import { toTelemetryRow, type TelemetryInsert } from '../../../apps/ingestion/src/pipeline/rows.js';
import type { IngestionPipeline, IngestMessage } from '../../../apps/ingestion/src/pipeline/ingestion-pipeline.js';
import type { FleetVehicle } from '../../../simulators/src/index.js';
import { historyCursor, simulateHistory } from './fleet.js';

/** COPYs `intervalS`-spaced history of [fromMs, toMs) for every vehicle; returns the rows written and the newest sample per vehicle. */
export async function copyHistory(
  database: Database,
  fleet: readonly FleetVehicle[],
  fromMs: number,
  toMs: number,
  intervalS: number,
  onProgress: (rows: number) => void,
): Promise<{ rows: number; newest: Map<string, TelemetrySample> }> {
  const repo = new TelemetryRepository(database.db);
  const newest = new Map<string, TelemetrySample>();
  let buffer: TelemetryInsert[] = [];
  let rows = 0;
  const receivedAt = new Date();
  const inflight = upTo(2);
  const flush = async (): Promise<void> => {
    const batch = buffer;
    buffer = [];
    await inflight.add(
      repo.copyBatch(batch).then((r) => {
        rows += r.inserted;
        onProgress(rows);
      }),
    );
  };
  for (const v of fleet) {
    let last: TelemetrySample | undefined;
    const chunks: TelemetrySample[][] = [];
    simulateHistory(v, fromMs, toMs, intervalS, 6 * 3_600_000, (samples) => chunks.push(samples));
    for (const samples of chunks) {
      for (const s of samples) {
        buffer.push(toTelemetryRow(v.id, s, Date.parse(String(s.ts)), receivedAt));
        last = s;
      }
      if (buffer.length >= 10_000) await flush();
    }
    if (last) newest.set(v.id, last);
  }
  if (buffer.length > 0) await flush();
  await inflight.drain();
  return { rows, newest };
}

/**
 * At most `limit` writes in flight: add() takes one and waits while `limit` are pending; drain() waits for the rest.
 * The first write that fails fails the next add() or the drain(), even when it settled while nothing waited on it.
 */
function upTo(limit: number): { add(write: Promise<unknown>): Promise<void>; drain(): Promise<void> } {
  const pending = new Set<Promise<unknown>>();
  let failure: { error: unknown } | undefined;
  const check = (): void => {
    if (failure) throw failure.error;
  };
  return {
    async add(write) {
      check();
      pending.add(write);
      write.then(
        () => pending.delete(write),
        (error: unknown) => {
          pending.delete(write);
          failure ??= { error };
        },
      );
      if (pending.size >= limit) await Promise.race(pending).catch(() => undefined);
      check();
    },
    async drain() {
      await Promise.allSettled(pending);
      check();
    },
  };
}

/** A telemetry message of `samples` (an array payload, as a vehicle's store-and-forward sends it) from `v`. */
function telemetryMessage(v: FleetVehicle, samples: readonly TelemetrySample[]): IngestMessage {
  return { vehicleId: v.id, channel: 'telemetry', topic: `fleet/${v.id}/telemetry`, payload: Buffer.from(JSON.stringify(samples)), receivedAt: new Date() };
}

/**
 * Feeds `intervalS`-spaced history of [fromMs, toMs) through the pipeline as store-and-forward backlog messages
 * (arrays of `perMessage` samples, in order per vehicle, `workers` vehicles at a time); returns the samples sent.
 * Each vehicle's whole history goes before the next vehicle's, so the rows of one hour lie scattered over the tables,
 * about one per page (the layout of a fleet that uploads months of backlog at once: the worst case for time-range
 * reads; see ingestLiveHistory for the live one).
 */
export async function ingestHistory(
  pipeline: IngestionPipeline,
  fleet: readonly FleetVehicle[],
  fromMs: number,
  toMs: number,
  intervalS: number,
  onProgress: (samples: number) => void,
  options: { perMessage?: number; workers?: number } = {},
): Promise<number> {
  // 200 samples ≈ 125 KB of JSON: well inside the 256 KiB packet/payload limit (a larger backlog is dead-lettered
  // whole as OVERSIZE, which is what a firmware must avoid too).
  const perMessage = options.perMessage ?? 200;
  const workers = options.workers ?? 16;
  let next = 0;
  let sent = 0;
  const worker = async (): Promise<void> => {
    while (next < fleet.length) {
      const v = fleet[next++]!;
      const all: TelemetrySample[] = [];
      simulateHistory(v, fromMs, toMs, intervalS, 6 * 3_600_000, (samples) => {
        for (const s of samples) all.push(s);
      });
      for (let i = 0; i < all.length; i += perMessage) {
        const chunk = all.slice(i, i + perMessage);
        await pipeline.ingest(telemetryMessage(v, chunk));
        sent += chunk.length;
        onProgress(sent);
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  return sent;
}

/**
 * The same history in the order a live fleet publishes it: hour after hour, every vehicle's samples of an hour (one
 * message per vehicle and hour, `inFlight` messages awaiting their commit at a time) before the samples of the next
 * hour. Rows then lie in telemetry and the rollup tables as live ingestion lays them out, an hour's rows together.
 * A message holds a vehicle's samples of that hour (12 at one every 5 min); a live vehicle would send them one by
 * one, but for the tables' layout only the order matters. Returns the samples sent.
 */
export async function ingestLiveHistory(
  pipeline: IngestionPipeline,
  fleet: readonly FleetVehicle[],
  fromMs: number,
  toMs: number,
  intervalS: number,
  onProgress: (samples: number) => void,
  options: { stepMs?: number; inFlight?: number } = {},
): Promise<number> {
  const stepMs = options.stepMs ?? 3_600_000;
  const cursors = fleet.map((v) => ({ v, next: historyCursor(v, fromMs, toMs, intervalS) }));
  const pending = upTo(options.inFlight ?? 256);
  let sent = 0;
  for (let t = fromMs + stepMs; ; t += stepMs) {
    for (const { v, next } of cursors) {
      const samples = next(t);
      if (samples.length === 0) continue;
      await pending.add(
        pipeline.ingest(telemetryMessage(v, samples)).then(() => {
          sent += samples.length;
          onProgress(sent);
        }),
      );
    }
    if (t >= toMs - 1) break;
  }
  await pending.drain();
  return sent;
}
