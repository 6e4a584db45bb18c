// Ingestion's writes to vehicle_state: lock the rows of a batch's vehicles, move the latest snapshot forward (never
// back in time), and store the active alarms/DTCs and the connectivity reported on the status topic.
// Hot path (once per batch): raw SQL over unnest arrays, one statement whatever the number of vehicles; the lock, the
// read of the previous state and the snapshot move are ONE statement (measured: the per-vehicle state work used to
// cost more than the telemetry insert itself).
import { Inject, Injectable } from '@nestjs/common';
import { CompiledQuery, type Kysely } from 'kysely';
import { DATABASE, type DB } from '../database.js';
import type { ActiveAlarms, AlarmChange } from '../tables/vehicle-state.table.js';
import { type BulkColumn, type StatementQueue, stagingTable, textArrayLiteral } from './bulk.js';
import { compileBinaryCopy } from './copy-binary.js';

/** The counter columns of the newest stored sample, exactly as stored (null = absent from that sample). */
export interface LastCounters {
  odometer_km: number | null;
  traction_kwh: number | null;
  body_kwh: number | null;
  regen_kwh: number | null;
  charged_kwh: number | null;
  h2_used_kg: number | null;
  fuel_used_l: number | null;
  engine_hours: number | null;
  body_hours: number | null;
}

export const LAST_COUNTER_COLUMNS = [
  'odometer_km',
  'traction_kwh',
  'body_kwh',
  'regen_kwh',
  'charged_kwh',
  'h2_used_kg',
  'fuel_used_l',
  'engine_hours',
  'body_hours',
] as const satisfies ReadonlyArray<keyof LastCounters>;

/** Where each counter of the newest sample is kept: odometer_km is the display value, so its exact twin is separate. */
const COUNTER_COLUMN: Readonly<Record<keyof LastCounters, string>> = {
  odometer_km: 'last_odometer_km',
  traction_kwh: 'traction_kwh',
  body_kwh: 'body_kwh',
  regen_kwh: 'regen_kwh',
  charged_kwh: 'charged_kwh',
  h2_used_kg: 'h2_used_kg',
  fuel_used_l: 'fuel_used_l',
  engine_hours: 'engine_hours',
  body_hours: 'body_hours',
};

/** What ingestion needs to know about a vehicle, read under the row lock (alarm fields: only when asked for). */
export interface LockedVehicleState {
  vehicleId: string;
  lastTs: Date | null;
  lastSeq: number | null;
  lastCounters: LastCounters;
  activeAlarms: ActiveAlarms;
  activeDtcs: string[];
  /** 'alarm:CODE' | 'dtc:CODE' → (ts, seq) of the newest event applied. */
  alarmChanged: Record<string, AlarmChange>;
  /** ts of the newest sample whose dtc list was applied (dtc events older than it are already accounted for). */
  dtcsAt: Date | null;
}

/** The newest sample of a batch for one vehicle. Snapshot fields left null keep their stored value. */
export interface SnapshotUpdate extends LastCounters {
  /**
   * The complete set of DTCs active at this sample (sorted, unique): it replaces active_dtcs when the sample moves the
   * snapshot forward and the set differs. Null or absent: active_dtcs is left alone (no `dtc` list in the sample, or
   * the caller merges the vehicle's DTCs itself with applyAlarms).
   */
  dtcs?: readonly string[] | null;
  /** The sample's ts when it has a `dtc` list (applied here or by the caller), else null: moves dtcs_at. */
  dtcs_ts?: Date | null;
  vehicle_id: string;
  ts: Date;
  seq: number;
  received_at: Date;
  state: string | null;
  lat: number | null;
  lon: number | null;
  speed_kmh: number | null;
  heading_deg: number | null;
  soc_pct: number | null;
  h2_mass_kg: number | null;
  fuel_level_pct: number | null;
  battery_temp_max_c: number | null;
  battery_temp_min_c: number | null;
  cell_v_max: number | null;
  cell_v_min: number | null;
  soh_pct: number | null;
  body_active: boolean | null;
  body_power_kw: number | null;
}

export interface AlarmStateUpdate {
  vehicleId: string;
  activeAlarms: ActiveAlarms;
  alarmMaxLevel: number;
  activeDtcs: readonly string[];
  alarmChanged: Readonly<Record<string, AlarmChange>>;
}

export interface StatusUpdate {
  vehicleId: string;
  online: boolean;
  fw: string | null;
  at: Date;
}

const ENSURE = `
  INSERT INTO vehicle_state (vehicle_id, tenant_id)
  SELECT id, tenant_id FROM vehicles WHERE id = ANY($1::text[]) ORDER BY id
  ON CONFLICT (vehicle_id) DO NOTHING`;

const SNAPSHOT_COLUMNS = [
  { name: 'vehicle_id', kind: 'text' },
  { name: 'ts', kind: 'timestamptz' },
  { name: 'seq', kind: 'int8' },
  { name: 'received_at', kind: 'timestamptz' },
  { name: 'state', kind: 'text' },
  { name: 'lat', kind: 'float8' },
  { name: 'lon', kind: 'float8' },
  { name: 'speed_kmh', kind: 'float8' },
  { name: 'heading_deg', kind: 'float8' },
  { name: 'soc_pct', kind: 'float8' },
  { name: 'h2_mass_kg', kind: 'float8' },
  { name: 'fuel_level_pct', kind: 'float8' },
  { name: 'battery_temp_max_c', kind: 'float8' },
  { name: 'battery_temp_min_c', kind: 'float8' },
  { name: 'cell_v_max', kind: 'float8' },
  { name: 'cell_v_min', kind: 'float8' },
  { name: 'soh_pct', kind: 'float8' },
  { name: 'body_active', kind: 'bool' },
  { name: 'body_power_kw', kind: 'float8' },
  ...LAST_COUNTER_COLUMNS.map((c) => ({ name: c, kind: 'float8' }) as const),
  { name: 'dtcs', kind: 'text[]' },
  { name: 'dtcs_ts', kind: 'timestamptz' },
] as const satisfies ReadonlyArray<BulkColumn<keyof SnapshotUpdate>>;

// Compile-time guard: a field added to SnapshotUpdate but not staged fails typechecking here.
type UnstagedField = Exclude<keyof SnapshotUpdate, (typeof SNAPSHOT_COLUMNS)[number]['name']>;
const allFieldsStaged: [UnstagedField] extends [never] ? true : UnstagedField = true;
void allFieldsStaged;

/** The batch's snapshots travel by binary COPY into this session temp table (see bulk.ts StagingTable). */
const SNAPSHOT_STAGE = stagingTable('specfleet_ingest_snapshot_stage', SNAPSHOT_COLUMNS);
const snapshotCopy = compileBinaryCopy(SNAPSHOT_COLUMNS);

const COALESCED = SNAPSHOT_COLUMNS.map((c) => c.name as string).filter(
  (c) => !['vehicle_id', 'ts', 'seq', 'received_at', 'dtcs', 'dtcs_ts'].includes(c) && !(LAST_COUNTER_COLUMNS as readonly string[]).includes(c),
);
/** Set equality (order and repeats aside), as applyAlarmEvents compares DTC sets. */
const DTCS_CHANGED = `u.dtcs IS NOT NULL AND NOT (u.dtcs @> s.active_dtcs AND s.active_dtcs @> u.dtcs)`;

// One statement for the batch's vehicle_state work:
// - `locked` locks the rows of ALL the batch's vehicles in vehicle_id order (ORDER BY before FOR UPDATE, so two
//   batches sharing vehicles queue up instead of deadlocking) and reads their state as it was before this batch:
//   the stored newest sample's key and counters (to chain energy increases from), and the alarm state of the
//   vehicles whose events the caller merges ($2). MATERIALIZED: read once, before anything below uses it.
// - `moved` moves each snapshot to the batch's newest sample (staged by COPY just before, one row per vehicle). It joins `locked`, so it only ever touches rows that
//   `locked` has already locked (in order), whatever order the executor runs the two in. The WHERE is the "never back in time" guarantee (SPEC §4.4): a batch whose
//   newest sample is older than the stored one changes nothing. Snapshot fields absent from the newest sample keep
//   their last known value (a sample without a GNSS fix must not blank the position); the cumulative counters (and
//   last_odometer_km) are stored exactly, nulls included, because energy increases are computed against exactly the
//   previous sample. The sample's DTC list, when given, replaces the active set if it differs; a sample with a list
//   (applied here or by the caller) moves dtcs_at to its ts.
// The main query returns `locked`: the previous state, which the caller needs for energy and alarms.
const LOCKED = `
    SELECT vehicle_id, last_ts, last_seq, ${LAST_COUNTER_COLUMNS.map((c) => `${COUNTER_COLUMN[c]} AS c_${c}`).join(', ')},
           CASE WHEN vehicle_id = ANY($2::text[]) THEN active_alarms END AS active_alarms,
           CASE WHEN vehicle_id = ANY($2::text[]) THEN active_dtcs END AS active_dtcs,
           CASE WHEN vehicle_id = ANY($2::text[]) THEN alarm_changed END AS alarm_changed,
           CASE WHEN vehicle_id = ANY($2::text[]) THEN dtcs_at END AS dtcs_at
    FROM vehicle_state WHERE vehicle_id = ANY($1::text[])
    ORDER BY vehicle_id FOR UPDATE`;

const ADVANCE = `
  WITH locked AS MATERIALIZED (${LOCKED}
  ), moved AS (
    UPDATE vehicle_state s SET
      last_ts = u.ts, last_seq = u.seq, last_received_at = u.received_at,
      ${COALESCED.map((c) => `${c} = COALESCE(u.${c}, s.${c})`).join(',\n      ')},
      odometer_km = COALESCE(u.odometer_km, s.odometer_km),
      ${LAST_COUNTER_COLUMNS.map((c) => `${COUNTER_COLUMN[c]} = u.${c}`).join(', ')},
      active_dtcs = CASE WHEN ${DTCS_CHANGED} THEN u.dtcs ELSE s.active_dtcs END,
      alarms_changed_at = CASE WHEN ${DTCS_CHANGED} THEN now() ELSE s.alarms_changed_at END,
      dtcs_at = COALESCE(u.dtcs_ts, s.dtcs_at),
      updated_at = now()
    FROM ${SNAPSHOT_STAGE.name} u
    JOIN locked l ON l.vehicle_id = u.vehicle_id
    WHERE s.vehicle_id = u.vehicle_id
      AND (s.last_ts IS NULL OR (u.ts, u.seq) > (s.last_ts, s.last_seq))
  )
  SELECT * FROM locked`;

/** lockAndAdvance without snapshots to move. */
const LOCK = `SELECT * FROM (${LOCKED}) locked`;

const ALARMS = `
  UPDATE vehicle_state s SET
    active_alarms = u.alarms::jsonb, alarm_max_level = u.max_level, active_dtcs = u.dtcs::text[],
    alarm_changed = u.changed::jsonb, alarms_changed_at = now(), updated_at = now()
  FROM unnest($1::text[], $2::text[], $3::int2[], $4::text[], $5::text[]) AS u(vehicle_id, alarms, max_level, dtcs, changed)
  WHERE s.vehicle_id = u.vehicle_id`;

// Status messages carry no timestamp: the receive time orders them, and an older one never overrides a newer one.
const STATUS = `
  UPDATE vehicle_state s SET
    connected = u.online,
    fw = COALESCE(u.fw, s.fw),
    connected_at = CASE WHEN u.online THEN u.at ELSE s.connected_at END,
    disconnected_at = CASE WHEN u.online THEN s.disconnected_at ELSE u.at END,
    updated_at = now()
  FROM unnest($1::text[], $2::bool[], $3::text[], $4::timestamptz[]) AS u(vehicle_id, online, fw, at)
  WHERE s.vehicle_id = u.vehicle_id
    AND u.at >= GREATEST(COALESCE(s.connected_at, '-infinity'), COALESCE(s.disconnected_at, '-infinity'))`;

// Vehicles absent from the registry have no vehicle_state row to lock; their batches serialise on this one
// transaction-scoped advisory lock instead (rare: the broker only admits registered vehicles).
const LOCK_UNREGISTERED = `SELECT pg_advisory_xact_lock(hashtext('specfleet.ingest.unregistered-vehicles'))`;

interface LockRow {
  vehicle_id: string;
  last_ts: Date | null;
  last_seq: number | null;
  active_alarms: ActiveAlarms | null;
  active_dtcs: string[] | null;
  alarm_changed: Record<string, AlarmChange> | null;
  dtcs_at: Date | null;
  [column: string]: unknown;
}

@Injectable()
export class VehicleStateRepository {
  /** Construct with a Transaction: the locks taken by lockAndAdvance last until it commits. */
  constructor(@Inject(DATABASE) private readonly db: Kysely<DB>) {}

  /**
   * Queues the INSERT of the missing vehicle_state rows of the registered vehicles among `vehicleIds` (no-op for the
   * others); it runs with the transaction's next round trip.
   */
  ensure(vehicleIds: readonly string[], queue: StatementQueue): void {
    if (vehicleIds.length === 0) return;
    queue.add(ENSURE, [textArrayLiteral([...vehicleIds].sort())]);
  }

  /**
   * Locks the rows of `vehicleIds` (in id order) until commit, returns their state as it was before, and moves each
   * snapshot of `snapshots` forward (never back). Alarm state is read only for `alarmVehicleIds` (empty for the
   * others). Vehicles without a vehicle_state row are absent from the result. The snapshots travel by one binary
   * COPY into a staging table of the transaction's connection (queued on `queue`, from IngestTransaction), then one
   * statement locks, reads and moves: one round trip with whatever else was queued.
   */
  async lockAndAdvance(
    vehicleIds: readonly string[],
    snapshots: readonly SnapshotUpdate[],
    alarmVehicleIds: readonly string[],
    queue: StatementQueue,
  ): Promise<Map<string, LockedVehicleState>> {
    const out = new Map<string, LockedVehicleState>();
    if (vehicleIds.length === 0) return out;
    const params: unknown[] = [textArrayLiteral(vehicleIds), textArrayLiteral(alarmVehicleIds)];
    // A batch of events or status messages only has nothing to move: lock and read, no COPY.
    if (snapshots.length > 0) queue.stage(SNAPSHOT_STAGE, snapshotCopy(snapshots));
    const result = await this.db.executeQuery<LockRow>(CompiledQuery.raw(snapshots.length > 0 ? ADVANCE : LOCK, params));
    for (const r of result.rows) {
      const lastCounters = {} as LastCounters;
      for (const c of LAST_COUNTER_COLUMNS) lastCounters[c] = (r[`c_${c}`] as number | null) ?? null;
      out.set(r.vehicle_id, {
        vehicleId: r.vehicle_id,
        lastTs: r.last_ts,
        lastSeq: r.last_seq,
        lastCounters,
        activeAlarms: r.active_alarms ?? {},
        activeDtcs: r.active_dtcs ?? [],
        alarmChanged: r.alarm_changed ?? {},
        dtcsAt: r.dtcs_at ?? null,
      });
    }
    return out;
  }

  /**
   * Serialises, until commit, the batches that write telemetry of vehicles without a vehicle_state row, so their
   * energy recomputations see each other's rows. Queue it after lockAndAdvance (lock order: rows, then this).
   */
  lockUnregistered(queue: StatementQueue): void {
    queue.add(LOCK_UNREGISTERED);
  }

  /** Queues the new alarm state of the vehicles in `updates`. */
  applyAlarms(updates: readonly AlarmStateUpdate[], queue: StatementQueue): void {
    if (updates.length === 0) return;
    queue.add(ALARMS, [
      updates.map((u) => u.vehicleId),
      updates.map((u) => JSON.stringify(u.activeAlarms)),
      updates.map((u) => u.alarmMaxLevel),
      updates.map((u) => textArrayLiteral(u.activeDtcs)),
      updates.map((u) => JSON.stringify(u.alarmChanged)),
    ]);
  }

  /** Queues the connection status updates. */
  applyStatus(updates: readonly StatusUpdate[], queue: StatementQueue): void {
    if (updates.length === 0) return;
    queue.add(STATUS, [
      updates.map((u) => u.vehicleId),
      updates.map((u) => u.online),
      updates.map((u) => u.fw),
      updates.map((u) => u.at.toISOString()),
    ]);
  }
}
