// Read side of the fleet for the query API: vehicles joined with their latest snapshot (vehicle_state), with the
// connectivity rule of SPEC §5 evaluated in SQL so it can filter, count and paginate. Never touches telemetry.
import { Inject, Injectable } from '@nestjs/common';
import { CompiledQuery, type InferResult, type Kysely, type RawBuilder, sql } from 'kysely';
import { DATABASE, type DB, poolOf } from '../database.js';
import type { ActiveAlarms } from '../tables/vehicle-state.table.js';
import type { BodyType, Powertrain } from '../tables/vehicle.table.js';
import { toVehicle, type Vehicle } from './vehicle.repository.js';

export type ConnectivityValue = 'online' | 'stale' | 'offline';

export interface FleetFilter {
  type?: string | undefined;
  bodyType?: string | undefined;
  powertrain?: string | undefined;
  /** vehicle_state.state (off | idle | driving | working | charging | refuelling). */
  state?: string | undefined;
  connectivity?: ConnectivityValue | undefined;
}

export interface ConnectivityClock {
  /** The instant connectivity is judged at (one per request, so a page and its counts agree). */
  now: Date;
  /** Silent longer than this = offline. */
  offlineAfterS: number;
}

/** A vehicle of the registry with its latest snapshot (snapshot fields null when it never reported). */
export interface FleetVehicleRow extends Vehicle {
  connectivity: ConnectivityValue;
  connected: boolean;
  connectedAt: Date | null;
  disconnectedAt: Date | null;
  fw: string | null;
  lastTs: Date | null;
  lastSeq: number | null;
  lastReceivedAt: Date | null;
  state: string | null;
  lat: number | null;
  lon: number | null;
  speedKmh: number | null;
  headingDeg: number | null;
  odometerKm: number | null;
  socPct: number | null;
  h2MassKg: number | null;
  fuelLevelPct: number | null;
  batteryTempMaxC: number | null;
  batteryTempMinC: number | null;
  cellVMax: number | null;
  cellVMin: number | null;
  sohPct: number | null;
  bodyActive: boolean | null;
  bodyPowerKw: number | null;
  activeAlarms: ActiveAlarms;
  alarmMaxLevel: number;
  activeDtcs: string[];
}

/**
 * What one entry of GET /fleet/status shows, and nothing else: the page is read on every dashboard refresh, and
 * fetching and parsing the whole snapshot (six timestamps, the alarm jsonb, the DTC array per row) was most of the
 * driver's time per request.
 */
export interface FleetStatusRow {
  id: string;
  type: string;
  bodyType: BodyType;
  powertrain: Powertrain;
  connectivity: ConnectivityValue;
  /** When the last sample was received, as Date.toISOString() writes it (UTC, milliseconds); null: never. */
  lastSeen: string | null;
  state: string | null;
  lat: number | null;
  lon: number | null;
  headingDeg: number | null;
  speedKmh: number | null;
  socPct: number | null;
  h2MassKg: number | null;
  h2CapacityKg: number | null;
  fuelLevelPct: number | null;
  alarmMaxLevel: number;
  activeDtcCount: number;
}

/** The connectivity clock as the SQL takes it (the statement's parameters, or markers standing for them). */
interface SqlClock {
  now: string;
  offlineAfterS: number;
}

const sqlClock = (clock: ConnectivityClock): SqlClock => ({ now: clock.now.toISOString(), offlineAfterS: clock.offlineAfterS });

/** How many fleet-status statements (shape × page size) a repository prepares on each connection, at most. */
const MAX_STATUS_STATEMENTS = 32;

/** The values of the fleet-status statement; which optional ones are given decides its text. */
interface StatusParams extends SqlClock {
  tenantId: string;
  type: string | undefined;
  bodyType: string | undefined;
  powertrain: string | undefined;
  state: string | undefined;
  connectivity: ConnectivityValue | undefined;
  afterId: string | undefined;
  /** limit + 1: one more row tells whether another page follows (a literal of the statement's text). */
  fetch: number;
}
type StatusSlot = Exclude<keyof StatusParams, 'fetch'>;
const OPTIONAL_STATUS_SLOTS = ['type', 'bodyType', 'powertrain', 'state', 'connectivity', 'afterId'] as const satisfies readonly StatusSlot[];
/** Starts the marker standing for a value while a statement is compiled (no real value starts with NUL). */
const SLOT_MARK = '\u0000slot:';

interface StatusStatement {
  /** The prepared statement's name, one per shape and page size; undefined: not kept, run unnamed. */
  name: string | undefined;
  sql: string;
  /** Which value goes to $1, $2, … */
  slots: StatusSlot[];
}

/** A row of the fleet-status statement: the counts, then the page's columns (all null when the page is empty). */
interface StatusSqlRow {
  n_total: number;
  n_reachable: number;
  n_online: number;
  id: string | null;
  type: string;
  body_type: BodyType;
  powertrain: Powertrain;
  h2_capacity_kg: number | null;
  connectivity: ConnectivityValue;
  last_seen: string | null;
  state: string | null;
  lat: number | null;
  lon: number | null;
  heading_deg: number | null;
  speed_kmh: number | null;
  soc_pct: number | null;
  h2_mass_kg: number | null;
  fuel_level_pct: number | null;
  alarm_max_level: number;
  active_dtc_count: number;
}

/** What connectivityCounts selects. */
interface ConnectivityTotals {
  total: number;
  reachable: number;
  online: number;
}

export interface ActiveAlarmRow {
  vehicleId: string;
  code: string;
  level: number;
  since: string | null;
  message: string | null;
}

@Injectable()
export class FleetQueryRepository {
  /** Fleet-status statements by shape and page size (see statusStatement). */
  private readonly statusStatements = new Map<string, StatusStatement>();

  constructor(@Inject(DATABASE) private readonly db: Kysely<DB>) {}

  /**
   * The connectivity expression (SPEC §5), mirrored by connectivityOf() in apps/query: offline when never seen,
   * disconnected or silent longer than offlineAfterS; online when a sample arrived within 3 × report_interval_s;
   * stale otherwise.
   */
  private connectivity(clock: SqlClock): RawBuilder<ConnectivityValue> {
    const now = clock.now;
    return sql<ConnectivityValue>`CASE
      WHEN s.vehicle_id IS NULL OR NOT s.connected THEN 'offline'
      WHEN s.last_received_at IS NULL THEN 'stale'
      WHEN s.last_received_at < ${now}::timestamptz - make_interval(secs => ${clock.offlineAfterS}) THEN 'offline'
      WHEN s.last_received_at >= ${now}::timestamptz - make_interval(secs => 3 * v.report_interval_s) THEN 'online'
      ELSE 'stale' END`;
  }

  /** The registry joined with the snapshot, as FleetVehicleRow's columns; its result type is what Row is. */
  selectVehicles(tenantId: string, filter: FleetFilter, clock: ConnectivityClock) {
    return this.base(tenantId, filter).select(this.columns(clock));
  }

  private base(tenantId: string, filter: FleetFilter) {
    let q = this.db
      .selectFrom('vehicles as v')
      .leftJoin('vehicle_state as s', (j) => j.onRef('s.vehicle_id', '=', 'v.id').onRef('s.tenant_id', '=', 'v.tenant_id'))
      .where('v.tenant_id', '=', tenantId);
    if (filter.type !== undefined) q = q.where('v.type', '=', filter.type);
    if (filter.bodyType !== undefined) q = q.where('v.body_type', '=', filter.bodyType as BodyType);
    if (filter.powertrain !== undefined) q = q.where('v.powertrain', '=', filter.powertrain as Powertrain);
    if (filter.state !== undefined) q = q.where('s.state', '=', filter.state);
    return q;
  }

  /** One page of the tenant's vehicles in id order, after `afterId`; `limit + 1` rows tell whether more follow. */
  async list(tenantId: string, filter: FleetFilter, clock: ConnectivityClock, page: { afterId?: string | undefined; limit: number }): Promise<FleetVehicleRow[]> {
    let q = this.selectVehicles(tenantId, filter, clock);
    if (filter.connectivity !== undefined) q = q.where(sql<boolean>`${this.connectivity(sqlClock(clock))} = ${filter.connectivity}`);
    if (page.afterId !== undefined) q = q.where('v.id', '>', page.afterId);
    const rows = await q.orderBy('v.id').limit(page.limit + 1).execute();
    return rows.map(toFleetVehicleRow);
  }

  /**
   * One page of fleet status (list()'s page, with only the columns of a status entry) and the vehicles per
   * connectivity over the whole filter (its own connectivity criterion ignored: the counts show all three), in one
   * statement: one round trip instead of two, and the page and its counts come from the same snapshot.
   *
   * The page is read on every dashboard refresh, so the per-request work is kept small: the statement's text depends
   * only on which filters are given, so it is built once per such shape (statusStatement) and runs as a prepared
   * statement on the pools createDatabase() made (PostgreSQL then plans it once per connection instead of on every
   * call), and last_seen comes formatted by PostgreSQL, exactly as Date.toISOString() would write it.
   */
  async status(
    tenantId: string,
    filter: FleetFilter,
    clock: ConnectivityClock,
    page: { afterId?: string | undefined; limit: number },
  ): Promise<{ rows: FleetStatusRow[]; counts: Record<ConnectivityValue, number> }> {
    const params: StatusParams = {
      tenantId,
      ...sqlClock(clock),
      type: filter.type,
      bodyType: filter.bodyType,
      powertrain: filter.powertrain,
      state: filter.state,
      connectivity: filter.connectivity,
      afterId: page.afterId,
      fetch: page.limit + 1,
    };
    const statement = this.statusStatement(params);
    const values = statement.slots.map((slot) => params[slot]);
    const pool = poolOf(this.db);
    // Elsewhere (e.g. a Kysely that records its queries, as the benchmark's EXPLAIN does) the same text runs unnamed.
    const rows =
      pool && statement.name !== undefined
        ? (await pool.query<StatusSqlRow>({ name: statement.name, text: statement.sql, values })).rows
      : (await this.db.executeQuery<StatusSqlRow>(CompiledQuery.raw(statement.sql, values))).rows;
    const first = rows[0];
    const total = first?.n_total ?? 0;
    const reachable = first?.n_reachable ?? 0;
    const online = first?.n_online ?? 0;
    const counts = { online, stale: reachable - online, offline: total - reachable };
    const out: FleetStatusRow[] = [];
    for (const r of rows) {
      // The counts row LEFT JOIN an empty page is one row of nulls on the page side.
      if (r.id === null) continue;
      out.push({
        id: r.id,
        type: r.type,
        bodyType: r.body_type,
        powertrain: r.powertrain,
        connectivity: r.connectivity,
        lastSeen: r.last_seen,
        state: r.state,
        lat: r.lat,
        lon: r.lon,
        headingDeg: r.heading_deg,
        speedKmh: r.speed_kmh,
        socPct: r.soc_pct,
        h2MassKg: r.h2_mass_kg,
        h2CapacityKg: r.h2_capacity_kg,
        fuelLevelPct: r.fuel_level_pct,
        alarmMaxLevel: r.alarm_max_level,
        activeDtcCount: r.active_dtc_count,
      });
    }
    return { counts, rows: out };
  }

  /**
   * The fleet-status statement for the shape of `params` (which optional ones are given) and its page size: built
   * with Kysely once, with a marker in place of each value, so the compiled parameters say which value goes where.
   * The page size is a literal of the text, not a parameter: with `LIMIT $n` PostgreSQL's generic plan assumes a
   * tenth of the rows and so costs more than the custom ones, and it would plan every execution anew (0.7-0.8 ms of
   * a ~3 ms statement at 10,000 vehicles); with the literal it switches to the generic plan after five executions.
   * Page sizes vary little (the default, a dashboard's own), but any integer up to the maximum is valid, so only the
   * first MAX_STATUS_STATEMENTS statements are kept and prepared; others are built for the call and run unnamed.
   */
  private statusStatement(params: StatusParams): StatusStatement {
    if (!Number.isSafeInteger(params.fetch) || params.fetch < 1) throw new RangeError(`page size ${params.fetch - 1} is not a positive integer`);
    const shape = OPTIONAL_STATUS_SLOTS.map((slot) => (params[slot] === undefined ? '0' : '1')).join('');
    const key = `${shape}_${params.fetch}`;
    const cached = this.statusStatements.get(key);
    if (cached) return cached;
    const mark = <T>(slot: StatusSlot): T => `${SLOT_MARK}${slot}` as unknown as T;
    const given = <T>(slot: (typeof OPTIONAL_STATUS_SLOTS)[number]): T | undefined => (params[slot] === undefined ? undefined : mark<T>(slot));
    const tenantId = mark<string>('tenantId');
    const clock: SqlClock = { now: mark('now'), offlineAfterS: mark('offlineAfterS') };
    const filter: FleetFilter = { type: given('type'), bodyType: given('bodyType'), powertrain: given('powertrain'), state: given('state'), connectivity: given('connectivity') };
    const afterId = given<string>('afterId');
    let q = this.base(tenantId, filter).select([
      'v.id',
      'v.type',
      'v.body_type',
      'v.powertrain',
      'v.h2_capacity_kg',
      this.connectivity(clock).as('connectivity'),
      sql<string | null>`to_char(s.last_received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`.as('last_seen'),
      's.state',
      's.lat',
      's.lon',
      's.heading_deg',
      's.speed_kmh',
      's.soc_pct',
      's.h2_mass_kg',
      's.fuel_level_pct',
      sql<number>`coalesce(s.alarm_max_level, 0)::int`.as('alarm_max_level'),
      sql<number>`coalesce(cardinality(s.active_dtcs), 0)`.as('active_dtc_count'),
    ]);
    if (filter.connectivity !== undefined) q = q.where(sql<boolean>`${this.connectivity(clock)} = ${filter.connectivity}`);
    if (afterId !== undefined) q = q.where('v.id', '>', afterId);
    q = q.orderBy('v.id').limit(sql.lit(params.fetch));
    // The counts row LEFT JOIN the page: an empty page still brings its counts (one row of nulls on the page side).
    const compiled = sql`
      SELECT c.total AS n_total, c.reachable AS n_reachable, c.online AS n_online, p.*
      FROM (${this.connectivityCounts(tenantId, filter, clock)}) c LEFT JOIN LATERAL (${q}) p ON true
      ORDER BY p.id`.compile(this.db);
    const slots = compiled.parameters.map((value) => {
      if (typeof value !== 'string' || !value.startsWith(SLOT_MARK)) throw new Error(`fleet status statement: unexpected parameter ${String(value)}`);
      return value.slice(SLOT_MARK.length) as StatusSlot;
    });
    if (this.statusStatements.size >= MAX_STATUS_STATEMENTS) return { name: undefined, sql: compiled.sql, slots };
    const statement = { name: `specfleet_fleet_status_${key}`, sql: compiled.sql, slots };
    this.statusStatements.set(key, statement);
    return statement;
  }

  /**
   * Every vehicle of the tenant matching the filter (fleet health grades all of them), in byte order of the id.
   * COLLATE "C" because fleet health cuts its pages in JavaScript (`id > cursor`, code-unit order): under the
   * database's collation (en_US.UTF-8 sorts "a-1" before "Z-1") the two orders differ and a page would skip or repeat
   * vehicles. Ids are ASCII (VEHICLE_ID_PATTERN), where byte and code-unit order agree.
   */
  async listAll(tenantId: string, filter: FleetFilter, clock: ConnectivityClock): Promise<FleetVehicleRow[]> {
    const rows = await this.selectVehicles(tenantId, filter, clock).orderBy(sql`v.id COLLATE "C"`).execute();
    return rows.map(toFleetVehicleRow);
  }

  async find(tenantId: string, id: string, clock: ConnectivityClock): Promise<FleetVehicleRow | undefined> {
    const row = await this.selectVehicles(tenantId, {}, clock).where('v.id', '=', id).executeTakeFirst();
    return row ? toFleetVehicleRow(row) : undefined;
  }

  /**
   * One row over the filter, its connectivity criterion ignored: total vehicles, reachable ones (online or stale) and
   * online ones; stale = reachable − online, offline = total − reachable.
   */
  private connectivityCounts(tenantId: string, filter: FleetFilter, clock: SqlClock): RawBuilder<ConnectivityTotals> {
    const { connectivity: _ignored, ...rest } = filter;
    if (rest.type === undefined && rest.bodyType === undefined && rest.powertrain === undefined) return this.countsWithoutJoin(tenantId, rest.state, clock);
    const byConnectivity = this.base(tenantId, rest).select(this.connectivity(clock).as('c'));
    return sql`SELECT count(*)::int AS total, (count(*) FILTER (WHERE x.c <> 'offline'))::int AS reachable,
      (count(*) FILTER (WHERE x.c = 'online'))::int AS online FROM (${byConnectivity}) x`;
  }

  /**
   * connectivityCounts when no registry column is filtered on: the same rule without joining every vehicle_state row
   * to its vehicle. That hash join was ~90 % of the counts' time and grows with the fleet (10,000 vehicles: 12-20 ms
   * on a loaded 2-core machine, against a 10 ms budget for the whole request). Instead, one scan of vehicle_state
   * and three lookups:
   * - the registry: how many vehicles (tenant_vehicle_counts, kept by triggers on vehicles: counting them here was
   *   2.2-2.5 ms per request at 10,000 vehicles) and the smallest and largest report interval (two probes of the
   *   index on vehicles (tenant_id, report_interval_s));
   * - vehicle_state: per row, the rule needs report_interval_s only when the vehicle is connected, heard from within
   *   the offline threshold, and its last sample is older than 3 × the smallest interval but not than 3 × the largest
   *   (newer is online whatever its interval, older is stale). Only those rows are joined to their vehicle, in a
   *   subquery that PostgreSQL skips (one-time filter) when the scan found none — always, when the fleet reports at
   *   one interval.
   * Vehicles without a state row are offline: total − rows with state (vehicle_state's foreign key on
   * (vehicle_id, tenant_id) makes its tenant_id that of the vehicle). The thresholds are computed once, in r.
   */
  private countsWithoutJoin(tenantId: string, state: string | undefined, clock: SqlClock): RawBuilder<ConnectivityTotals> {
    const now = clock.now;
    const byState = (alias: string) => (state === undefined ? sql`` : sql`AND ${sql.ref(`${alias}.state`)} = ${state}`);
    // With a state filter only vehicles with a snapshot match (the join's s.state = … drops the others).
    const total = state === undefined ? sql`r.vehicles` : sql`c.with_state`;
    // r MATERIALIZED: computed once. Inlined, its thresholds (each with a subquery) were evaluated for every row the
    // counts filter, which cost more than the registry scan they replace.
    return sql`
      WITH r AS MATERIALIZED (
        SELECT coalesce((SELECT n.vehicles FROM tenant_vehicle_counts n WHERE n.tenant_id = ${tenantId}), 0) AS vehicles,
               ${now}::timestamptz - make_interval(secs => ${clock.offlineAfterS}) AS offline_before,
               ${now}::timestamptz - make_interval(secs => 3 * (SELECT min(report_interval_s) FROM vehicles WHERE tenant_id = ${tenantId})) AS surely_online_since,
               ${now}::timestamptz - make_interval(secs => 3 * (SELECT max(report_interval_s) FROM vehicles WHERE tenant_id = ${tenantId})) AS maybe_online_since
      )
      SELECT ${total} AS total, c.reachable,
        c.online + (SELECT count(*)::int FROM vehicle_state m JOIN vehicles v ON v.id = m.vehicle_id AND v.tenant_id = m.tenant_id
          WHERE c.ambiguous > 0 AND m.tenant_id = ${tenantId} ${byState('m')} AND m.connected AND m.last_received_at >= r.offline_before
            AND m.last_received_at < r.surely_online_since AND m.last_received_at >= r.maybe_online_since
            AND m.last_received_at >= ${now}::timestamptz - make_interval(secs => 3 * v.report_interval_s)) AS online
      FROM r CROSS JOIN LATERAL (
        SELECT count(*)::int AS with_state,
          (count(*) FILTER (WHERE s.connected AND (s.last_received_at IS NULL OR s.last_received_at >= r.offline_before)))::int AS reachable,
          (count(*) FILTER (WHERE s.connected AND s.last_received_at >= r.offline_before AND s.last_received_at >= r.surely_online_since))::int AS online,
          (count(*) FILTER (WHERE s.connected AND s.last_received_at >= r.offline_before AND s.last_received_at < r.surely_online_since
            AND s.last_received_at >= r.maybe_online_since))::int AS ambiguous
        FROM vehicle_state s WHERE s.tenant_id = ${tenantId} ${byState('s')}
      ) c`;
  }

  /**
   * Active alarms across the tenant's fleet from vehicle_state (one row per vehicle and code), worst level first,
   * then vehicle id and code; `after` is the last row of the previous page.
   */
  async listActiveAlarms(
    tenantId: string,
    minLevel: number,
    page: { after?: { level: number; vehicleId: string; code: string } | undefined; limit: number },
  ): Promise<ActiveAlarmRow[]> {
    const after = page.after;
    const { rows } = await sql<{ vehicle_id: string; code: string; level: number; since: string | null; message: string | null }>`
      SELECT s.vehicle_id, a.key AS code, (a.value->>'level')::int AS level, a.value->>'since' AS since, a.value->>'message' AS message
      FROM vehicle_state s CROSS JOIN LATERAL jsonb_each(s.active_alarms) a
      WHERE s.tenant_id = ${tenantId} AND s.alarm_max_level >= ${minLevel} AND (a.value->>'level')::int >= ${minLevel}
        ${after ? sql`AND (-(a.value->>'level')::int, s.vehicle_id, a.key) > (${-after.level}::int, ${after.vehicleId}::text, ${after.code}::text)` : sql``}
      ORDER BY -(a.value->>'level')::int, s.vehicle_id, a.key
      LIMIT ${page.limit + 1}`.execute(this.db);
    return rows.map((r) => ({ vehicleId: r.vehicle_id, code: r.code, level: r.level, since: r.since, message: r.message }));
  }

  private columns(clock: ConnectivityClock) {
    return [
      'v.id',
      'v.tenant_id',
      'v.type',
      'v.body_type',
      'v.powertrain',
      'v.vin',
      'v.model',
      'v.battery_kwh',
      'v.h2_capacity_kg',
      'v.fuel_capacity_l',
      'v.report_interval_s',
      'v.credentials_rotated_at',
      'v.created_at',
      this.connectivity(sqlClock(clock)).as('connectivity'),
      sql<boolean>`coalesce(s.connected, false)`.as('connected'),
      's.connected_at',
      's.disconnected_at',
      's.fw',
      's.last_ts',
      's.last_seq',
      's.last_received_at',
      's.state',
      's.lat',
      's.lon',
      's.speed_kmh',
      's.heading_deg',
      's.odometer_km',
      's.soc_pct',
      's.h2_mass_kg',
      's.fuel_level_pct',
      's.battery_temp_max_c',
      's.battery_temp_min_c',
      's.cell_v_max',
      's.cell_v_min',
      's.soh_pct',
      's.body_active',
      's.body_power_kw',
      sql<ActiveAlarms>`coalesce(s.active_alarms, '{}'::jsonb)`.as('active_alarms'),
      sql<number>`coalesce(s.alarm_max_level, 0)::int`.as('alarm_max_level'),
      sql<string[]>`coalesce(s.active_dtcs, '{}'::text[])`.as('active_dtcs'),
    ] as const;
  }
}

/** A row as selected: kysely infers it from the tables and the column list (nullable where the join may miss). */
type Row = InferResult<ReturnType<FleetQueryRepository['selectVehicles']>>[number];

function toFleetVehicleRow(r: Row): FleetVehicleRow {
  return {
    ...toVehicle(r),
    connectivity: r.connectivity,
    connected: r.connected,
    connectedAt: r.connected_at,
    disconnectedAt: r.disconnected_at,
    fw: r.fw,
    lastTs: r.last_ts,
    lastSeq: r.last_seq,
    lastReceivedAt: r.last_received_at,
    state: r.state,
    lat: r.lat,
    lon: r.lon,
    speedKmh: r.speed_kmh,
    headingDeg: r.heading_deg,
    odometerKm: r.odometer_km,
    socPct: r.soc_pct,
    h2MassKg: r.h2_mass_kg,
    fuelLevelPct: r.fuel_level_pct,
    batteryTempMaxC: r.battery_temp_max_c,
    batteryTempMinC: r.battery_temp_min_c,
    cellVMax: r.cell_v_max,
    cellVMin: r.cell_v_min,
    sohPct: r.soh_pct,
    bodyActive: r.body_active,
    bodyPowerKw: r.body_power_kw,
    activeAlarms: r.active_alarms,
    alarmMaxLevel: r.alarm_max_level,
    activeDtcs: r.active_dtcs,
  };
}
