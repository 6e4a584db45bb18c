// Ingestion's writes to vehicle_state: lock the rows of a batch's vehicles, move the latest snapshot forward (never
// back in time), and store the active alarms/DTCs and the connectivity reported on the status topic.
// Hot path (once per batch): raw SQL over unnest arrays, one statement whatever the number of vehicles.
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

/** What ingestion needs to know about a vehicle, read under the row lock. */
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

// ORDER BY before FOR UPDATE: rows are locked in vehicle_id order, so two batches sharing vehicles queue up
// instead of deadlocking.
const LOCK = `
  SELECT vehicle_id, last_ts, last_seq, ${LAST_COUNTER_COLUMNS.map((c) => `${COUNTER_COLUMN[c]} AS c_${c}`).join(', ')},
         active_alarms, active_dtcs, alarm_changed
  FROM vehicle_state WHERE vehicle_id = ANY($1::text[])
  ORDER BY vehicle_id FOR UPDATE`;

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
];
const COALESCED = SNAPSHOT_COLUMNS.map(([c]) => c).filter(
  (c) => !['vehicle_id', 'ts', 'seq', 'received_at'].includes(c) && !(LAST_COUNTER_COLUMNS as readonly string[]).includes(c),
);

// The WHERE is the "never back in time" guarantee (SPEC §4.4): a batch whose newest sample is older than the stored
// one changes nothing. Snapshot fields absent from the newest sample keep their last known value (a sample without
// a GNSS fix must not blank the position); the cumulative counters (and last_odometer_km) are stored exactly, nulls
// included, because energy increases are computed against exactly the previous sample.
const SNAPSHOT = `
  UPDATE vehicle_state s SET
    last_ts = u.ts, last_seq = u.seq, last_received_at = u.received_at,
    ${COALESCED.map((c) => `${c} = COALESCE(u.${c}, s.${c})`).join(',\n    ')},
    odometer_km = COALESCE(u.odometer_km, s.odometer_km),
    ${LAST_COUNTER_COLUMNS.map((c) => `${COUNTER_COLUMN[c]} = u.${c}`).join(', ')},
    updated_at = now()
  FROM unnest(${SNAPSHOT_COLUMNS.map(([, k], i) => `$${i + 1}::${k}[]`).join(', ')})
       AS u(${SNAPSHOT_COLUMNS.map(([c]) => c).join(', ')})
  WHERE s.vehicle_id = u.vehicle_id
    AND (s.last_ts IS NULL OR (u.ts, u.seq) > (s.last_ts, s.last_seq))`;

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
  active_alarms: ActiveAlarms;
  active_dtcs: string[];
  alarm_changed: Record<string, number>;
  [column: string]: unknown;
}

@Injectable()
export class VehicleStateRepository {
  /** Construct with a Transaction: the locks taken by lockForIngest last until it commits. */
  constructor(@Inject(DATABASE) private readonly db: Kysely<DB>) {}

  /**
   * Creates the missing vehicle_state rows of registered vehicles among `ensure`, then locks and reads the rows of
   * `vehicleIds` (in id order). Vehicles absent from the registry have no row and are absent from the result.
   */
  async lockForIngest(vehicleIds: readonly string[], ensure: readonly string[] = vehicleIds): Promise<Map<string, LockedVehicleState>> {
    const out = new Map<string, LockedVehicleState>();
    if (vehicleIds.length === 0) return out;
    if (ensure.length > 0) await this.db.executeQuery(CompiledQuery.raw(ENSURE, [[...ensure].sort()]));
    const result = await this.db.executeQuery<LockRow>(CompiledQuery.raw(LOCK, [[...vehicleIds]]));
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
   * energy recomputations see each other's rows. Take it after lockForIngest (lock order: rows, then this).
   */
  async lockUnregistered(): Promise<void> {
    await this.db.executeQuery(CompiledQuery.raw(LOCK_UNREGISTERED, []));
  }

  /** Moves each vehicle's snapshot to its batch's newest sample, unless the stored one is newer. Returns rows moved. */
  async applySnapshots(rows: readonly SnapshotUpdate[]): Promise<number> {
    if (rows.length === 0) return 0;
    const params = SNAPSHOT_COLUMNS.map(([c, kind]) =>
      rows.map((r) => {
        const v = r[c];
        return v instanceof Date && kind === 'timestamptz' ? v.toISOString() : (v ?? null);
      }),
    );
    const result = await this.db.executeQuery(CompiledQuery.raw(SNAPSHOT, params));
    return Number(result.numAffectedRows ?? 0n);
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
