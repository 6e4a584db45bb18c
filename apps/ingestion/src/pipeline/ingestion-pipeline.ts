// The ingestion pipeline: decodes each MQTT message with the contracts, batches the results, and writes a batch in ONE
// transaction — telemetry, events, dead letters, vehicle_state and energy_hourly — before any message of it is
// acknowledged. Both sources (the embedded broker and the MQTT subscriber) call `ingest()`.
import {
  DEFAULT_DECODE_LIMITS,
  decodeEvents,
  decodeStatus,
  decodeTelemetry,
  escapeUnsafeText,
  unknownTopicRejection,
  type DecodeContext,
  type Rejection,
  type RejectReason,
} from '@fleet/contracts';
import {
  DeadLetterRepository,
  EnergyHourlyRepository,
  type IngestTransaction,
  IngestTransactionRepository,
  EventsRepository,
  TelemetryRepository,
  VehicleStateRepository,
  type AlarmStateUpdate,
  type Database,
  type EnergyIncrement,
  type LockedVehicleState,
  type NewDeadLetter,
  type SampleKey as DbSampleKey,
  type SnapshotUpdate,
  type StatusUpdate,
  type StepLimits,
} from '@fleet/db';
import pino, { type Logger } from 'pino';
import {
  accumulateChain,
  ENERGY_COLUMNS,
  hourStart,
  STEP_LIMITS,
  tenMinuteStart,
  type CounterSample,
  type HourlyIncrease,
} from '../energy/energy-increase.js';
import { Batcher, type BatcherOptions } from './batcher.js';
import { IngestionMetrics } from './ingestion.metrics.js';
import { counterSampleOf, countersOf, toEventRow, toTelemetryRow, type EventInsert, type TelemetryInsert } from './rows.js';
import { applyAlarmEvents, isNewer, keyOf, type SampleKey } from './vehicle-state-merge.js';

/** The Kysely handle of @fleet/db (apps do not import kysely themselves). */
type DatabaseHandle = Database['db'];

/** One MQTT message, as the broker (embedded mode) or the MQTT subscriber (distributed mode) hands it over. */
export interface IngestMessage {
  /** From the topic; undefined when the topic does not parse. */
  vehicleId: string | undefined;
  /** `telemetry`, `events`, `status`, `cmd/ack`; anything else is dead-lettered as UNKNOWN_TOPIC. */
  channel: string | undefined;
  topic: string;
  payload: Uint8Array;
  receivedAt: Date;
  /**
   * The PUBLISH was larger than the broker's packet limit (embedded mode, see apps/broker PacketSizeGuard): its size
   * in bytes. `payload` holds only its first bytes, and the message is dead-lettered as PAYLOAD_TOO_LARGE.
   */
  oversizeBytes?: number;
}

/** The port both sources use: resolves once the message is committed or dead-lettered durably. */
export interface IngestSink {
  ingest(message: IngestMessage): Promise<void>;
}

export interface IngestionPipelineOptions {
  /** Samples per batch (flush when reached). Default 2,000. */
  maxBatchSize?: number;
  /** Longest wait before a partial batch is flushed. Default 20 ms. */
  maxDelayMs?: number;
  /** Samples queued or being written before ingest() waits (shared evenly by the partitions). Default 50,000. */
  maxPending?: number;
  /** Samples that may wait for room before ingest() refuses (IngestOverloadedError). Default = maxPending. */
  maxWaiting?: number;
  /**
   * Vehicle partitions: each vehicle's messages always go to the same one, each has its own batches, so batches of
   * different partitions never share a vehicle and commit in parallel without waiting for each other's row locks.
   * Default 2.
   */
  partitions?: number;
  /** Batch transactions at the same time per partition. Default 1. */
  maxConcurrentFlushes?: number;
  /** Retry backoff of a failed batch: first delay and cap. Defaults 50 ms and 5 s. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** Decoder limits (ts window, samples per message, payload bytes). Default DEFAULT_DECODE_LIMITS (SPEC §3, §4). */
  decode?: Partial<Omit<DecodeContext, 'nowMs'>>;
  /**
   * How telemetry rows are written: 'copy' (COPY into a staging table, then INSERT … SELECT ON CONFLICT DO NOTHING)
   * or 'unnest' (one INSERT … SELECT FROM unnest(…)). Default 'copy', the faster on full rows (measure-insert.ts).
   */
  telemetryWrite?: 'copy' | 'unnest';
  /** Clock for the ts window. Default Date.now. */
  now?: () => number;
  metrics?: IngestionMetrics;
  logger?: Logger;
}

/** What a message becomes once decoded: everything its batch transaction must write. */
interface Decoded {
  readonly topic: string;
  readonly vehicleId: string | undefined;
  /** Kept until commit so a message the database refuses can still be dead-lettered with its raw bytes. */
  readonly payload: Uint8Array;
  readonly receivedAt: Date;
  readonly telemetry: TelemetryInsert[];
  readonly events: EventInsert[];
  readonly deadLetters: DeadLetter[];
  readonly status: StatusUpdate | undefined;
}

/** A dead letter and how many rejected samples/events it stands for (the metric counts those). */
type DeadLetter = NewDeadLetter & { readonly elements: number };

/** Sorted indexes as ranges, `[3, 500–509, 700]`, cut at ~1,000 characters. */
function indexRanges(indexes: readonly number[]): string {
  const sorted = [...indexes].sort((a, b) => a - b);
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    const part = j > i ? `${sorted[i]}–${sorted[j]}` : String(sorted[i]);
    if (length + part.length > 1_000) {
      parts.push('…');
      break;
    }
    parts.push(part);
    length += part.length + 2;
    i = j + 1;
  }
  return `[${parts.join(', ')}]`;
}

/** Reason used when the database itself refuses a message that passed validation (found by bisecting a batch). */
export const STORAGE_REJECTED: RejectReason = 'STORAGE_REJECTED';

const STEP_LIMIT_ARRAYS: StepLimits = {
  maxPerHour: ENERGY_COLUMNS.map((c) => STEP_LIMITS[c].maxPerHour),
  slack: ENERGY_COLUMNS.map((c) => STEP_LIMITS[c].slack),
};

// SQLSTATE classes where retrying the same rows cannot help: data exceptions (22), integrity violations (23),
// program limits (54). Everything else — connection failures (08, no code at all), shutdown (57P), resources (53),
// serialization/deadlock (40), timeouts (57014) — is transient, and so is a programming error (42): dead-lettering
// good data because of a missing migration would be worse than holding it.
function isPoison(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.length === 5 && ['22', '23', '54'].includes(code.slice(0, 2));
}

/** A batch's place in the order of vehicle_state locking: wait for the previous batch, then let the next one go. */
interface Turn {
  wait(): Promise<void>;
  done(): void;
}

/** Longest wait for the earlier batches' turn (see takeTurn). */
const TURN_WAIT_MS = 1_000;

const sampleKeyString = (vehicleId: string, tsMs: number, seq: number): string => `${vehicleId}\u0000${tsMs}\u0000${seq}`;

export class IngestionPipeline implements IngestSink {
  readonly metrics: IngestionMetrics;
  private readonly logger: Logger;
  /** One per vehicle partition (see IngestionPipelineOptions.partitions). */
  private readonly batchers: Batcher<Decoded>[];
  private readonly decodeLimits: Omit<DecodeContext, 'nowMs'>;
  private readonly now: () => number;
  private readonly telemetryWrite: 'copy' | 'unnest';
  private readonly transactions: IngestTransactionRepository;
  /** Vehicles known to have a vehicle_state row: skips the INSERT … ON CONFLICT DO NOTHING per batch. */
  private readonly knownState = new Set<string>();
  /** Batches in flight that have not locked their vehicles yet, in the order they left the queue (see takeTurn). */
  private readonly unlocked = new Set<{ readonly vehicles: ReadonlySet<string>; readonly locked: Promise<void> }>();
  /** Messages of a batch already committed by a bisection, so a retry of the batch does not write them twice. */
  private readonly committed = new WeakSet<Decoded>();

  constructor(
    private readonly db: DatabaseHandle,
    options: IngestionPipelineOptions = {},
  ) {
    this.metrics = options.metrics ?? new IngestionMetrics();
    this.logger = options.logger ?? pino({ name: 'ingestion' });
    this.now = options.now ?? Date.now;
    this.telemetryWrite = options.telemetryWrite ?? 'copy';
    this.decodeLimits = { ...DEFAULT_DECODE_LIMITS, ...options.decode };
    this.transactions = new IngestTransactionRepository(db);
    const partitions = Math.max(1, Math.floor(options.partitions ?? 2));
    const share = (n: number): number => Math.max(1, Math.ceil(n / partitions));
    const maxPending = options.maxPending ?? 50_000;
    const batcherOptions: BatcherOptions<Decoded> = {
      flush: (items) => this.flush(items),
      arrivedAt: (item) => item.receivedAt.getTime(),
      ...(options.maxBatchSize !== undefined ? { maxBatchSize: options.maxBatchSize } : {}),
      ...(options.maxDelayMs !== undefined ? { maxDelayMs: options.maxDelayMs } : {}),
      maxPending: share(maxPending),
      maxWaiting: share(options.maxWaiting ?? maxPending),
      maxConcurrentFlushes: options.maxConcurrentFlushes ?? 1,
      ...(options.retryInitialMs !== undefined ? { retryInitialMs: options.retryInitialMs } : {}),
      ...(options.retryMaxMs !== undefined ? { retryMaxMs: options.retryMaxMs } : {}),
      onFlushError: (error, attempt, nextDelayMs) => {
        this.metrics.flushFailures.inc({ kind: isPoison(error) ? 'data' : 'transient' });
        const err = error instanceof Error ? { message: error.message, code: (error as { code?: unknown }).code } : String(error);
        // First failure and then every 10th: an outage must be visible without flooding the log.
        if (attempt === 1 || attempt % 10 === 0) this.logger.warn({ event: 'flush_failed', attempt, nextDelayMs, err }, 'batch not committed; retrying, nothing acknowledged');
      },
      onFlushed: (items, weight, durationMs) => {
        this.metrics.batchSamples.observe(weight);
        this.metrics.commitSeconds.observe(durationMs / 1000);
        let oldest = Infinity;
        for (const i of items) oldest = Math.min(oldest, i.receivedAt.getTime());
        const lag = Math.max(0, Date.now() - oldest) / 1000;
        this.metrics.lagSeconds.set(lag);
        this.metrics.receiveToCommitSeconds.observe(lag);
      },
    };
    this.batchers = Array.from({ length: partitions }, () => new Batcher(batcherOptions));
    this.metrics.watch({
      pending: () => this.pending,
      oldestPendingAt: () => {
        let oldest: number | undefined;
        for (const b of this.batchers) {
          const at = b.oldestPendingAt;
          if (at !== undefined && (oldest === undefined || at < oldest)) oldest = at;
        }
        return oldest;
      },
    });
  }

  /** Samples queued or being written (for readiness and tests). */
  get pending(): number {
    let n = 0;
    for (const b of this.batchers) n += b.pending;
    return n;
  }

  /** Samples of messages waiting for room in the pipeline, not admitted yet (for tests). */
  get waiting(): number {
    let n = 0;
    for (const b of this.batchers) n += b.waitingSamples;
    return n;
  }

  ingest(message: IngestMessage): Promise<void> {
    const decoded = this.decode(message);
    if (decoded === undefined) return Promise.resolve();
    const batcher = this.batcherOf(decoded);
    const result = batcher.add(decoded, this.weightOf(decoded));
    return result.catch((error: unknown) => {
      if ((error as Error).name === 'IngestOverloadedError') this.metrics.overloaded.inc();
      throw error;
    });
  }

  /**
   * Two-phase form for a source that must stop reading while the pipeline is full: `admitted` resolves when the
   * message holds a place in the pipeline, `committed` when it is durable. Undefined when there is nothing to store.
   */
  submit(message: IngestMessage): { admitted: Promise<void>; committed: Promise<void> } {
    const decoded = this.decode(message);
    if (decoded === undefined) return { admitted: Promise.resolve(), committed: Promise.resolve() };
    return this.batcherOf(decoded).submit(decoded, this.weightOf(decoded));
  }

  /** Writes everything admitted, then stops. Waits as long as the database is down (nothing may be dropped). */
  async close(): Promise<void> {
    await Promise.all(this.batchers.map((b) => b.close()));
  }

  /** Cuts a retry backoff short, e.g. when a health check saw the database come back. */
  retryNow(): void {
    for (const b of this.batchers) b.retryNow();
  }

  /** The vehicle's partition (FNV-1a of its id); messages without a vehicle (bad topics) go to the first. */
  private batcherOf(d: Decoded): Batcher<Decoded> {
    if (this.batchers.length === 1 || d.vehicleId === undefined) return this.batchers[0]!;
    let h = 0x811c9dc5;
    for (let i = 0; i < d.vehicleId.length; i++) h = Math.imul(h ^ d.vehicleId.charCodeAt(i), 0x01000193);
    return this.batchers[(h >>> 0) % this.batchers.length]!;
  }

  private weightOf(d: Decoded): number {
    return Math.max(1, d.telemetry.length + d.events.length + d.deadLetters.length);
  }

  private decode(message: IngestMessage): Decoded | undefined {
    const { vehicleId, channel, topic, payload, receivedAt } = message;
    this.metrics.received.inc({ channel: channel ?? 'unknown' });
    const decoded: Decoded = { topic, vehicleId, payload, receivedAt, telemetry: [], events: [], deadLetters: [], status: undefined };
    const reject = (rejections: readonly Rejection[]): void => {
      decoded.deadLetters.push(...this.deadLettersOf(topic, vehicleId, payload, receivedAt, rejections));
    };
    if (vehicleId === undefined || channel === undefined) {
      reject([unknownTopicRejection(topic)]);
      return decoded;
    }
    if (message.oversizeBytes !== undefined) {
      reject([{ reason: 'PAYLOAD_TOO_LARGE', detail: `packet: ${message.oversizeBytes} bytes > ${this.decodeLimits.maxBytes}; the first ${payload.byteLength} bytes of its payload kept` }]);
      return decoded;
    }
    const ctx: DecodeContext = { ...this.decodeLimits, nowMs: this.now() };
    switch (channel) {
      case 'telemetry': {
        const result = decodeTelemetry(payload, ctx);
        for (const a of result.accepted) decoded.telemetry.push(toTelemetryRow(vehicleId, a.sample, a.tsMs, receivedAt));
        reject(result.rejected);
        return decoded;
      }
      case 'events': {
        const result = decodeEvents(payload, ctx);
        for (const a of result.accepted) decoded.events.push(toEventRow(vehicleId, a.event, a.tsMs, receivedAt));
        reject(result.rejected);
        return decoded;
      }
      case 'status': {
        // A zero-byte retained publish is how MQTT clears a retained message (a vehicle taken out of service, say):
        // there is no status in it to store, and nothing wrong with it either.
        if (payload.byteLength === 0) return undefined;
        // decodeStatus's own bound (MAX_STATUS_BYTES, 1 KiB): a status is one flag and a firmware version, and a
        // larger one is PAYLOAD_TOO_LARGE like any oversized payload.
        const result = decodeStatus(payload);
        if (result.ok) {
          return { ...decoded, status: { vehicleId, online: result.status.online, fw: result.status.fw ?? null, at: receivedAt } };
        }
        reject([result.rejection]);
        return decoded;
      }
      case 'cmd/ack':
        // Reserved for commands (SPEC §3): nothing consumes acknowledgements yet, so there is nothing to store.
        return undefined;
      default:
        reject([unknownTopicRejection(topic)]);
        return decoded;
    }
  }

  /**
   * One dead letter per (message, reason): a backlog of 1,000 bad samples becomes one row per reason, not 1,000
   * copies of the same raw bytes. Its detail names every rejected index (as ranges) and the first five reasons in
   * full; its raw is the rejected elements (a JSON array, in order) when they came out of an array, else the
   * message; the metric counts the elements.
   */
  private deadLettersOf(topic: string, vehicleId: string | undefined, payload: Uint8Array, receivedAt: Date, rejections: readonly Rejection[]): DeadLetter[] {
    if (rejections.length === 0) return [];
    // Elements rejected out of an array: their own JSON is what a firmware engineer needs, not the message's first
    // 4 KiB (DEAD_LETTER_RAW_LIMIT), which in a backlog are usually samples that were stored. Parsed again here, on
    // the rejection path only: the decoder keeps no parse tree.
    let parsed: unknown[] | undefined;
    if (rejections.some((r) => r.index !== undefined)) {
      try {
        const root: unknown = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
        if (Array.isArray(root)) parsed = root;
      } catch {
        parsed = undefined; // cannot happen (the decoder parsed it); the message's bytes are kept instead
      }
    }
    const byReason = new Map<string, Rejection[]>();
    for (const r of rejections) {
      const list = byReason.get(r.reason);
      if (list) list.push(r);
      else byReason.set(r.reason, [r]);
    }
    const out: DeadLetter[] = [];
    for (const [reason, list] of byReason) {
      const shown = list
        .slice(0, 5)
        .map((r) => (r.index !== undefined ? `[${r.index}] ${r.detail}` : r.detail))
        .join('; ');
      const indexes = list.flatMap((r) => (r.index !== undefined ? [r.index] : []));
      const detail = list.length > 5 ? `${list.length} elements ${indexRanges(indexes)}: ${shown}; …` : shown;
      const raw = parsed !== undefined && indexes.length === list.length ? Buffer.from(JSON.stringify(indexes.map((i) => parsed[i]))) : payload;
      out.push({ topic: storableTopic(topic), vehicleId: vehicleId ?? null, reason, detail: detail.slice(0, 2000), raw, receivedAt, elements: list.length });
    }
    return out;
  }

  /** Called by the batcher; throws only for transient failures (the batcher retries the same items). */
  private async flush(items: readonly Decoded[]): Promise<void> {
    const todo = items.filter((i) => !this.committed.has(i));
    if (todo.length === 0) return;
    try {
      await this.writeBatch(todo);
    } catch (error) {
      if (!isPoison(error)) throw error;
      await this.bisect(todo, error);
    }
  }

  /** Finds the message(s) the database refuses by halving the batch; each refused one is dead-lettered alone. */
  private async bisect(items: readonly Decoded[], error: unknown): Promise<void> {
    if (items.length === 1) {
      const item = items[0]!;
      const detail = `database refused the message: ${(error as Error).message} (${String((error as { code?: unknown }).code)})`;
      this.logger.error({ event: 'storage_rejected', vehicleId: item.vehicleId, topic: item.topic, err: detail }, 'message dead-lettered by the database');
      const rejected: DeadLetter = {
        topic: storableTopic(item.topic),
        vehicleId: item.vehicleId ?? null,
        reason: STORAGE_REJECTED,
        detail: escapeUnsafeText(detail).slice(0, 2000),
        raw: item.payload,
        receivedAt: item.receivedAt,
        elements: Math.max(1, item.telemetry.length + item.events.length),
      };
      const alone = { ...item, telemetry: [], events: [], status: undefined };
      // The message's own dead letters (elements the decoder refused) stay, beside the one for what the database
      // refused; only if the database refuses those too is the STORAGE_REJECTED row written alone.
      try {
        await this.writeBatch([{ ...alone, deadLetters: [...item.deadLetters, rejected] }]);
      } catch (again) {
        if (item.deadLetters.length === 0 || !isPoison(again)) throw again;
        await this.writeBatch([{ ...alone, deadLetters: [rejected] }]);
      }
      this.committed.add(item);
      return;
    }
    const mid = Math.ceil(items.length / 2);
    for (const half of [items.slice(0, mid), items.slice(mid)]) {
      try {
        await this.writeBatch(half);
        for (const i of half) this.committed.add(i);
      } catch (e) {
        if (!isPoison(e)) throw e;
        await this.bisect(half, e);
      }
    }
  }

  private async writeBatch(items: readonly Decoded[]): Promise<void> {
    // Duplicates inside the batch are dropped here (first one wins, as the unique key would): the energy rule and the
    // snapshot need each (vehicle, ts, seq) once.
    const telemetry: TelemetryInsert[] = [];
    const seen = new Set<string>();
    let batchDuplicates = 0;
    const events: EventInsert[] = [];
    const seenEvents = new Set<string>();
    const deadLetters: DeadLetter[] = [];
    const statusByVehicle = new Map<string, StatusUpdate>();
    const batchVehicles = new Set<string>();
    for (const item of items) {
      if (item.vehicleId !== undefined && (item.telemetry.length > 0 || item.events.length > 0 || item.status)) batchVehicles.add(item.vehicleId);
      for (const row of item.telemetry) {
        const k = sampleKeyString(row.vehicle_id, row.ts.getTime(), row.seq);
        if (seen.has(k)) batchDuplicates++;
        else {
          seen.add(k);
          telemetry.push(row);
        }
      }
      for (const ev of item.events) {
        const k = sampleKeyString(ev.vehicle_id, ev.ts.getTime(), ev.seq);
        if (!seenEvents.has(k)) {
          seenEvents.add(k);
          events.push(ev);
        }
      }
      deadLetters.push(...item.deadLetters);
      if (item.status) {
        const prev = statusByVehicle.get(item.status.vehicleId);
        if (!prev || prev.at <= item.status.at) statusByVehicle.set(item.status.vehicleId, item.status);
      }
    }

    const ensured: string[] = [];
    const copy = this.telemetryWrite === 'copy';
    const turn = this.takeTurn(batchVehicles);
    let outcome;
    try {
      const done = await this.transactions.run(copy ? telemetry : [], async (tx) => {
        ensured.length = 0; // a retry of the transaction starts over
        const trx = tx.db;
        const tel = copy ? undefined : await new TelemetryRepository(trx).insertBatch(telemetry);
        const ev = await new EventsRepository(trx).insertBatch(events);
        if (deadLetters.length > 0) await new DeadLetterRepository(trx).insert(deadLetters);
        const recomputed = await this.updateDerived(tx, telemetry, events, [...statusByVehicle.values()], ensured, turn);
        return { tel, ev, recomputed };
      });
      outcome = { ...done.result, tel: done.result.tel ?? done.telemetry };
    } finally {
      turn.done();
    }
    if (this.knownState.size > 1_000_000) this.knownState.clear();
    for (const v of ensured) this.knownState.add(v);

    this.metrics.stored.inc({ kind: 'telemetry' }, outcome.tel.inserted);
    this.metrics.stored.inc({ kind: 'events' }, outcome.ev.inserted);
    this.metrics.duplicates.inc({ kind: 'telemetry' }, outcome.tel.duplicates + batchDuplicates);
    this.metrics.duplicates.inc({ kind: 'events' }, outcome.ev.duplicates + (items.reduce((a, i) => a + i.events.length, 0) - events.length));
    for (const d of deadLetters) this.metrics.deadLettered.inc({ reason: d.reason }, d.elements);
    this.metrics.energyRecomputedHours.inc(outcome.recomputed);
  }

  /**
   * vehicle_state and energy_hourly for the batch, under the row locks of its vehicles (taken in id order), so
   * concurrent batches of the same vehicle apply one after the other and each sees the other's committed rows.
   * One statement locks, reads the previous state and moves the snapshots (with the DTC set of the newest sample);
   * the in-order energy increases are chained from the previous counters it returns, in one more statement.
   */
  private async updateDerived(
    tx: IngestTransaction,
    telemetry: readonly TelemetryInsert[],
    events: readonly EventInsert[],
    statuses: readonly StatusUpdate[],
    ensured: string[],
    turn: Turn,
  ): Promise<number> {
    const rowsByVehicle = groupBy(telemetry, (r) => r.vehicle_id);
    const eventsByVehicle = groupBy(events, (e) => e.vehicle_id);
    const vehicles = [...new Set([...rowsByVehicle.keys(), ...eventsByVehicle.keys(), ...statuses.map((s) => s.vehicleId)])].sort();
    if (vehicles.length === 0) return 0;
    const trx = tx.db;
    const stateRepo = new VehicleStateRepository(trx);
    // Before the INSERT of missing rows too: an earlier batch's INSERT must not wait on this one's uncommitted rows.
    await turn.wait();
    const ensure = vehicles.filter((v) => !this.knownState.has(v));
    stateRepo.ensure(ensure, tx.queue);

    // Vehicles whose alarm/DTC events need the stored alarm state merged here (applyAlarmEvents); for the others the
    // newest sample's DTC list, if any, is applied by the snapshot statement itself.
    const alarmVehicles: string[] = [];
    for (const [vehicleId, list] of eventsByVehicle) if (list.some(changesAlarms)) alarmVehicles.push(vehicleId);
    const alarmSet = new Set(alarmVehicles);
    const snapshots: SnapshotUpdate[] = [];
    for (const [vehicleId, rows] of rowsByVehicle) {
      rows.sort(compareRows);
      const newest = rows[rows.length - 1]!;
      snapshots.push(toSnapshot(newest, alarmSet.has(vehicleId) || newest.dtc == null ? null : [...new Set(newest.dtc as string[])].sort()));
    }
    const states = await stateRepo.lockAndAdvance(vehicles, snapshots, alarmVehicles, tx.queue);
    turn.done();
    // Remembered only once this transaction has committed (see writeBatch): a concurrent batch that skipped the
    // INSERT would not see the uncommitted row, find nothing to lock, and race this one.
    for (const v of ensure) if (states.has(v)) ensured.push(v);
    // A vehicle deleted (and maybe provisioned again) since: ensure its row again next time.
    for (const v of vehicles) if (!states.has(v)) this.knownState.delete(v);

    const increments = new Map<string, EnergyIncrement>();
    const recompute: DbSampleKey[] = [];
    const alarmUpdates: AlarmStateUpdate[] = [];
    let unregistered = false;

    for (const [vehicleId, rows] of rowsByVehicle) {
      const state = states.get(vehicleId);
      if (state === undefined) unregistered = true;
      const last: SampleKey | undefined = state?.lastTs ? { tsMs: state.lastTs.getTime(), seq: state.lastSeq ?? 0 } : undefined;
      // Sorted rows: none is older than the stored newest sample iff the first one is not. One equal to it (a
      // redelivery of that very sample) is already counted and adds nothing.
      if (state !== undefined && last !== undefined && !isNewer(last, keyOf(rows[0]!))) {
        const start = { tsMs: last.tsMs, seq: last.seq, counters: countersOf(state.lastCounters) };
        this.addIncrements(increments, vehicleId, start, rows.filter((r) => isNewer(keyOf(r), last)));
      } else if (state !== undefined && last === undefined) {
        // The vehicle's first samples: last_ts is set under this row lock by every commit that stores a sample of it,
        // so none is stored and the chain starts at rows[0]. Recomputing their hours from raw rows instead cost
        // seconds of database time per batch when a large fleet came online at once (10,000 vehicles: every
        // vehicle's first batch took that path). Rows stored while the vehicle had no registry entry (distributed
        // mode) are not chained to: a vehicle registered since starts its energy record at registration.
        this.addIncrements(increments, vehicleId, undefined, rows);
      } else {
        // Late or backfilled samples (or no stored predecessor to chain from): recompute the hours they touch.
        recompute.push(...lastKeyPerHour(rows));
      }
    }

    for (const vehicleId of alarmVehicles) {
      const state = states.get(vehicleId);
      if (state === undefined) continue;
      const rows = rowsByVehicle.get(vehicleId);
      const newest = rows?.[rows.length - 1];
      const last: SampleKey | undefined = state.lastTs ? { tsMs: state.lastTs.getTime(), seq: state.lastSeq ?? 0 } : undefined;
      const advances = newest !== undefined && isNewer(keyOf(newest), last);
      const telemetryDtcs = advances && newest.dtc != null ? (newest.dtc as string[]) : undefined;
      const update = applyAlarmEvents(
        { activeAlarms: state.activeAlarms, activeDtcs: state.activeDtcs, changedAt: state.alarmChanged, dtcsAtMs: state.dtcsAt?.getTime() ?? null },
        eventsByVehicle.get(vehicleId) ?? [],
        telemetryDtcs,
        telemetryDtcs !== undefined ? newest!.ts.getTime() : undefined,
      );
      if (update.changed) {
        alarmUpdates.push({ vehicleId, activeAlarms: update.activeAlarms, alarmMaxLevel: update.alarmMaxLevel, activeDtcs: update.activeDtcs, alarmChanged: update.changedAt });
      }
    }

    // Without a vehicle_state row there is no row lock to order concurrent batches of the vehicle (see the lock
    // above): those serialise on one advisory lock, or two recomputations could each miss the other's rows.
    if (unregistered) stateRepo.lockUnregistered(tx.queue);

    // Queued: they go to the database with the recomputation if there is one, else with the COMMIT.
    const energy = new EnergyHourlyRepository(trx);
    energy.addIncrements([...increments.values()], tx.queue);
    const recomputed = await energy.recomputeAround(recompute, STEP_LIMIT_ARRAYS);
    stateRepo.applyAlarms(alarmUpdates, tx.queue);
    stateRepo.applyStatus(statuses, tx.queue);
    return recomputed;
  }

  /**
   * Batches of this pipeline lock their vehicles in the order they left the queue. Two batches in flight usually
   * share vehicles; if the later one locked first, every sample of the earlier one would be "late" and take the
   * recompute path (hundreds of ms of database time for a batch of 1,000 vehicles, measured) instead of the
   * in-order one. So a batch waits for the earlier batches in flight that share a vehicle with it to take their locks
   * (batches of disjoint vehicles do not wait). Only an ordering hint — the row locks keep it correct either way — so
   * it waits at most TURN_WAIT_MS: a batch whose COPY waits on a later batch's uncommitted duplicate row cannot hold
   * that one up forever.
   */
  private takeTurn(vehicles: ReadonlySet<string>): Turn {
    const earlier: Promise<void>[] = [];
    for (const other of this.unlocked) if (overlaps(other.vehicles, vehicles)) earlier.push(other.locked);
    let release!: () => void;
    const entry = { vehicles, locked: new Promise<void>((resolve) => (release = resolve)) };
    this.unlocked.add(entry);
    return {
      wait: () => {
        if (earlier.length === 0) return Promise.resolve();
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, TURN_WAIT_MS)));
        return Promise.race([Promise.all(earlier).then(() => undefined), timeout]).finally(() => clearTimeout(timer));
      },
      done: () => {
        this.unlocked.delete(entry);
        release();
      },
    };
  }

  /**
   * In-order path: the increase of each new sample over its predecessor, starting from the stored newest sample (if
   * any), per 10-minute bucket (energy_10min; the hour rows are their sums).
   */
  private addIncrements(into: Map<string, EnergyIncrement>, vehicleId: string, start: CounterSample | undefined, newer: readonly TelemetryInsert[]): void {
    if (newer.length === 0) return;
    const perBucket = new Map<number, HourlyIncrease>();
    accumulateChain(start, newer.map(counterSampleOf), perBucket, tenMinuteStart);
    for (const row of newer) {
      const bucket = tenMinuteStart(row.ts.getTime());
      const key = `${vehicleId}\u0000${bucket}`;
      let inc = into.get(key);
      if (inc === undefined) {
        inc = { vehicleId, bucket: new Date(bucket), samples: 0, ...zero() };
        into.set(key, inc);
      }
      inc.samples++;
    }
    for (const [bucket, increase] of perBucket) {
      const inc = into.get(`${vehicleId}\u0000${bucket}`)!;
      for (const c of ENERGY_COLUMNS) inc[c] += increase[c];
    }
  }
}

/**
 * A topic as dead_letters.topic can hold it. MQTT forbids U+0000 in topic names, but a dead letter must not depend on
 * every broker enforcing that: a text column refuses it, and the dead letter itself would then be refused.
 */
function storableTopic(topic: string): string {
  return escapeUnsafeText(topic);
}

function overlaps(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const v of small) if (large.has(v)) return true;
  return false;
}

function zero(): Record<(typeof ENERGY_COLUMNS)[number], number> {
  return { distance_km: 0, traction_kwh: 0, body_kwh: 0, regen_kwh: 0, charged_kwh: 0, h2_kg: 0, fuel_l: 0, engine_hours: 0, body_hours: 0 };
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const i of items) {
    const k = key(i);
    const list = out.get(k);
    if (list) list.push(i);
    else out.set(k, [i]);
  }
  return out;
}

/**
 * The keys that decide which hours to recompute: per hour, only its newest sample can have a successor outside the
 * hour, so the newest one per hour stands for all of them (sorted input).
 */
function lastKeyPerHour(sorted: readonly TelemetryInsert[]): DbSampleKey[] {
  const out = new Map<number, DbSampleKey>();
  for (const r of sorted) out.set(hourStart(r.ts.getTime()), { vehicleId: r.vehicle_id, ts: r.ts, seq: r.seq });
  return [...out.values()];
}

/** Events that set or clear alarms and DTCs (applyAlarmEvents ignores the others). */
function changesAlarms(e: EventInsert): boolean {
  return e.code != null && (e.kind === 'alarm' || e.kind === 'dtc');
}

function compareRows(a: TelemetryInsert, b: TelemetryInsert): number {
  return a.ts.getTime() - b.ts.getTime() || a.seq - b.seq;
}

function toSnapshot(r: TelemetryInsert, dtcs: readonly string[] | null): SnapshotUpdate {
  return {
    dtcs,
    // Whoever applies the list (this statement, or applyAlarmEvents for vehicles with alarm events), its time is kept.
    dtcs_ts: r.dtc != null ? r.ts : null,
    vehicle_id: r.vehicle_id,
    ts: r.ts,
    seq: r.seq,
    received_at: r.received_at,
    state: r.state ?? null,
    lat: r.lat ?? null,
    lon: r.lon ?? null,
    speed_kmh: r.speed_kmh ?? null,
    heading_deg: r.heading_deg ?? null,
    soc_pct: r.soc_pct ?? null,
    h2_mass_kg: r.h2_mass_kg ?? null,
    fuel_level_pct: r.fuel_level_pct ?? null,
    battery_temp_max_c: r.battery_temp_max_c ?? null,
    battery_temp_min_c: r.battery_temp_min_c ?? null,
    cell_v_max: r.cell_v_max ?? null,
    cell_v_min: r.cell_v_min ?? null,
    soh_pct: r.soh_pct ?? null,
    body_active: r.body_active ?? null,
    body_power_kw: r.body_power_kw ?? null,
    odometer_km: r.odometer_km ?? null,
    traction_kwh: r.traction_kwh ?? null,
    body_kwh: r.body_kwh ?? null,
    regen_kwh: r.regen_kwh ?? null,
    charged_kwh: r.charged_kwh ?? null,
    h2_used_kg: r.h2_used_kg ?? null,
    fuel_used_l: r.fuel_used_l ?? null,
    engine_hours: r.engine_hours ?? null,
    body_hours: r.body_hours ?? null,
  };
}
