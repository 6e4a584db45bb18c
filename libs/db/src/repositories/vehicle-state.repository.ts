// Ingestion's writes to vehicle_state: lock the rows of a batch's vehicles, move the latest snapshot forward (never
// back in time), and store the active alarms/DTCs and the connectivity reported on the status topic.
// Hot path (once per batch): raw SQL over unnest arrays, one statement whatever the number of vehicles; the lock, the
// read of the previous state and the snapshot move are ONE statement (measured: the per-vehicle state work used to
// cost more than the telemetry insert itself).
import { Inject, Injectable } from '@nestjs/common';
import { CompiledQuery, type Kysely } from 'kysely';
import { DATABASE, type DB } from '../database.js';
import type { ActiveAlarms } from '../tables/vehicle-state.table.js';
import { textArrayLiteral } from './bulk.js';

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
  /** 'alarm:CODE' | 'dtc:CODE' → epoch ms of the newest event applied. */
  alarmChanged: Record<string, number>;
}

/** The newest sample of a batch for one vehicle. Snapshot fields left null keep their stored value. */
export interface SnapshotUpdate extends LastCounters {
  /**
   * The complete set of DTCs active at this sample (sorted, unique): it replaces active_dtcs when the sample moves the
   * snapshot forward and the set differs. Null or absent: active_dtcs is left alone (no `dtc` list in the sample, or
   * the caller merges the vehicle's DTCs itself with applyAlarms).
   */
  dtcs?: readonly string[] | null;
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
  alarmChanged: Readonly<Record<string, number>>;
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

type SnapshotKind = 'text' | 'timestamptz' | 'int8' | 'float8' | 'bool';
const SNAPSHOT_COLUMNS: ReadonlyArray<readonly [keyof SnapshotUpdate, SnapshotKind]> = [
  ['vehicle_id', 'text'],
  ['ts', 'timestamptz'],
  ['seq', 'int8'],
  ['received_at', 'timestamptz'],
  ['state', 'text'],
  ['lat', 'float8'],
  ['lon', 'float8'],
  ['speed_kmh', 'float8'],
  ['heading_deg', 'float8'],
  ['soc_pct', 'float8'],
  ['h2_mass_kg', 'float8'],
  ['fuel_level_pct', 'float8'],
  ['battery_temp_max_c', 'float8'],
  ['battery_temp_min_c', 'float8'],
  ['cell_v_max', 'float8'],
  ['cell_v_min', 'float8'],
  ['soh_pct', 'float8'],
  ['body_active', 'bool'],
  ['body_power_kw', 'float8'],
  ...LAST_COUNTER_COLUMNS.map((c) => [c, 'float8'] as const),
  // A text[] per row cannot travel inside a text[][] (arrays are rectangular): each is an array literal, cast per row.
  ['dtcs', 'text'],
];
const COALESCED = SNAPSHOT_COLUMNS.map(([c]) => c).filter(
  (c) => !['vehicle_id', 'ts', 'seq', 'received_at', 'dtcs'].includes(c) && !(LAST_COUNTER_COLUMNS as readonly string[]).includes(c),
);
/** Set equality (order and repeats aside), as applyAlarmEvents compares DTC sets. */
const DTCS_CHANGED = `u.dtcs IS NOT NULL AND NOT (u.dtcs::text[] @> s.active_dtcs AND s.active_dtcs @> u.dtcs::text[])`;

// One statement for the batch's vehicle_state work:
// - `locked` locks the rows of ALL the batch's vehicles in vehicle_id order (ORDER BY before FOR UPDATE, so two
//   batches sharing vehicles queue up instead of deadlocking) and reads their state as it was before this batch:
//   the stored newest sample's key and counters (to chain energy increases from), and the alarm state of the
//   vehicles whose events the caller merges ($2). MATERIALIZED: read once, before anything below uses it.
// - `moved` moves each snapshot to the batch's newest sample. It joins `locked`, so it only ever touches rows that
//   `locked` has already locked (in order), whatever order the executor runs the two in. The WHERE is the "never back in time" guarantee (SPEC §4.4): a batch whose
//   newest sample is older than the stored one changes nothing. Snapshot fields absent from the newest sample keep
//   their last known value (a sample without a GNSS fix must not blank the position); the cumulative counters (and
//   last_odometer_km) are stored exactly, nulls included, because energy increases are computed against exactly the
//   previous sample. The sample's DTC list, when given, replaces the active set if it differs.
// The main query returns `locked`: the previous state, which the caller needs for energy and alarms.
const ADVANCE = `
  WITH locked AS MATERIALIZED (
    SELECT vehicle_id, last_ts, last_seq, ${LAST_COUNTER_COLUMNS.map((c) => `${COUNTER_COLUMN[c]} AS c_${c}`).join(', ')},
           CASE WHEN vehicle_id = ANY($2::text[]) THEN active_alarms END AS active_alarms,
           CASE WHEN vehicle_id = ANY($2::text[]) THEN active_dtcs END AS active_dtcs,
           CASE WHEN vehicle_id = ANY($2::text[]) THEN alarm_changed END AS alarm_changed
    FROM vehicle_state WHERE vehicle_id = ANY($1::text[])
    ORDER BY vehicle_id FOR UPDATE
  ), moved AS (
    UPDATE vehicle_state s SET
      last_ts = u.ts, last_seq = u.seq, last_received_at = u.received_at,
      ${COALESCED.map((c) => `${c} = COALESCE(u.${c}, s.${c})`).join(',\n      ')},
      odometer_km = COALESCE(u.odometer_km, s.odometer_km),
      ${LAST_COUNTER_COLUMNS.map((c) => `${COUNTER_COLUMN[c]} = u.${c}`).join(', ')},
      active_dtcs = CASE WHEN ${DTCS_CHANGED} THEN u.dtcs::text[] ELSE s.active_dtcs END,
      alarms_changed_at = CASE WHEN ${DTCS_CHANGED} THEN now() ELSE s.alarms_changed_at END,
      updated_at = now()
    FROM unnest(${SNAPSHOT_COLUMNS.map(([, k], i) => `$${i + 3}::${k}[]`).join(', ')})
         AS u(${SNAPSHOT_COLUMNS.map(([c]) => c).join(', ')})
    JOIN locked l ON l.vehicle_id = u.vehicle_id
    WHERE s.vehicle_id = u.vehicle_id
      AND (s.last_ts IS NULL OR (u.ts, u.seq) > (s.last_ts, s.last_seq))
  )
  SELECT * FROM locked`;

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
  alarm_changed: Record<string, number> | null;
  [column: string]: unknown;
}

type Scalar = string | number | boolean | Date | null | undefined;

/**
 * A PostgreSQL array literal for an unnest parameter, built here rather than by node-pg: node-pg quotes and
 * regex-escapes every element (numbers included), which showed up in the CPU profile of the hot path.
 */
function arrayLiteral(kind: SnapshotKind, values: readonly Scalar[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    const v = values[i];
    if (v === null || v === undefined) out += 'NULL';
    else if (kind === 'timestamptz' && v instanceof Date) out += v.toISOString();
    else if (kind === 'text' || kind === 'timestamptz') out += `"${String(v).replace(/[\\"]/g, '\\$&')}"`;
    else if (kind === 'bool') out += v ? 't' : 'f';
    else out += String(v); // numbers: what float8in/int8in parse, NaN and Infinity included
  }
  return `${out}}`;
}

@Injectable()
export class VehicleStateRepository {
  /** Construct with a Transaction: the locks taken by lockAndAdvance last until it commits. */
  constructor(@Inject(DATABASE) private readonly db: Kysely<DB>) {}

  /** Creates the missing vehicle_state rows of the registered vehicles among `vehicleIds` (no-op for the others). */
  async ensure(vehicleIds: readonly string[]): Promise<void> {
    if (vehicleIds.length === 0) return;
    await this.db.executeQuery(CompiledQuery.raw(ENSURE, [[...vehicleIds].sort()]));
  }

  /**
   * Locks the rows of `vehicleIds` (in id order) until commit, returns their state as it was before, and moves each
   * snapshot of `snapshots` forward (never back). Alarm state is read only for `alarmVehicleIds` (empty for the
   * others). Vehicles without a vehicle_state row are absent from the result. One statement.
   */
  async lockAndAdvance(
    vehicleIds: readonly string[],
    snapshots: readonly SnapshotUpdate[],
    alarmVehicleIds: readonly string[] = [],
  ): Promise<Map<string, LockedVehicleState>> {
    const out = new Map<string, LockedVehicleState>();
    if (vehicleIds.length === 0) return out;
    const params: unknown[] = [arrayLiteral('text', vehicleIds), arrayLiteral('text', alarmVehicleIds)];
    for (const [c, kind] of SNAPSHOT_COLUMNS) {
      params.push(
        c === 'dtcs'
          ? arrayLiteral('text', snapshots.map((r) => (r.dtcs == null ? null : textArrayLiteral(r.dtcs))))
          : arrayLiteral(kind, snapshots.map((r) => r[c] as Scalar)),
      );
    }
    const result = await this.db.executeQuery<LockRow>(CompiledQuery.raw(ADVANCE, params));
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
      });
    }
    return out;
  }

  /**
   * Serialises, until commit, the batches that write telemetry of vehicles without a vehicle_state row, so their
   * energy recomputations see each other's rows. Take it after lockAndAdvance (lock order: rows, then this).
   */
  async lockUnregistered(): Promise<void> {
    await this.db.executeQuery(CompiledQuery.raw(LOCK_UNREGISTERED, []));
  }

  async applyAlarms(updates: readonly AlarmStateUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    await this.db.executeQuery(
      CompiledQuery.raw(ALARMS, [
        updates.map((u) => u.vehicleId),
        updates.map((u) => JSON.stringify(u.activeAlarms)),
        updates.map((u) => u.alarmMaxLevel),
        updates.map((u) => textArrayLiteral(u.activeDtcs)),
        updates.map((u) => JSON.stringify(u.alarmChanged)),
      ]),
    );
  }

  async applyStatus(updates: readonly StatusUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    await this.db.executeQuery(
      CompiledQuery.raw(STATUS, [
        updates.map((u) => u.vehicleId),
        updates.map((u) => u.online),
        updates.map((u) => u.fw),
        updates.map((u) => u.at.toISOString()),
      ]),
    );
  }
}
