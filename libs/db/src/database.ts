// The database handle: the DB type (every table), and createDatabase() building a pg pool + Kysely on top of it.
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { ApiKeyTable } from './tables/api-key.table.js';
import type { DeadLetterTable } from './tables/dead-letter.table.js';
import type { EnergyDailyTable, EnergyDailyWatermarkTable, EnergyMonthlyTable } from './tables/energy-daily.table.js';
import type { Energy10MinTable, EnergyHourlyTable } from './tables/energy-hourly.table.js';
import type { EventTable } from './tables/event.table.js';
import type { ServiceAccountTable } from './tables/service-account.table.js';
import type { SpecfleetMetaTable } from './tables/specfleet-meta.table.js';
import type { TelemetryTable } from './tables/telemetry.table.js';
import type { TenantTable, TenantVehicleCountTable } from './tables/tenant.table.js';
import type { VehicleStateTable } from './tables/vehicle-state.table.js';
import type { VehicleTable } from './tables/vehicle.table.js';

export interface DB {
  tenants: TenantTable;
  tenant_vehicle_counts: TenantVehicleCountTable;
  api_keys: ApiKeyTable;
  vehicles: VehicleTable;
  service_accounts: ServiceAccountTable;
  telemetry: TelemetryTable;
  events: EventTable;
  vehicle_state: VehicleStateTable;
  energy_hourly: EnergyHourlyTable;
  energy_10min: Energy10MinTable;
  energy_daily: EnergyDailyTable;
  energy_daily_watermark: EnergyDailyWatermarkTable;
  energy_monthly: EnergyMonthlyTable;
  dead_letters: DeadLetterTable;
  specfleet_meta: SpecfleetMetaTable;
}

/** Nest injection token for the Kysely<DB> instance the repositories take. */
export const DATABASE = Symbol('specfleet.database');

export interface DatabaseOptions {
  /** Pool size (default 10). */
  max?: number;
  /** statement_timeout set on every connection, in ms (default 30 000; 0 = none, e.g. for migrations). */
  statementTimeoutMs?: number;
  /** application_name, visible in pg_stat_activity (default 'specfleet'). */
  applicationName?: string;
  /**
   * Called when an idle pooled connection fails (server restart, network drop). pg emits these on the pool;
   * unhandled, they would crash the process. The pool discards the broken client by itself; the default only logs.
   */
  onPoolError?: (err: Error) => void;
}

export interface Database {
  db: Kysely<DB>;
  pool: pg.Pool;
  /** Ends the pool; safe to call more than once. */
  close(): Promise<void>;
}

const INT8_OID = 20;
const INT8_ARRAY_OID = 1016;

/**
 * int8 → number. node-pg returns bigint as a string by default because it may exceed 2^53. Ours never does (seq is a
 * uint32, ids are bigserials, counts are row counts), and numbers are what the rest of the code computes with, so we
 * parse them — but a value that would lose precision is an error, never a silent rounding.
 */
export function parseInt8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) {
    throw new RangeError(`int8 value ${value} does not fit a JS number without losing precision`);
  }
  return n;
}

function buildTypes(): pg.CustomTypesConfig {
  // Per-pool overrides rather than pg.types.setTypeParser(): the global one would change every pg user in the process.
  const types = new pg.TypeOverrides();
  types.setTypeParser(INT8_OID, parseInt8);
  // 1016 (_int8) is not in @types/pg's TypeId enum; the runtime parser for it exists.
  const getParser = pg.types.getTypeParser as (oid: number) => (value: string) => Array<string | null>;
  const parseArray = getParser(INT8_ARRAY_OID);
  types.setTypeParser(INT8_ARRAY_OID, (value: string) =>
    parseArray(value).map((v) => (v === null ? null : parseInt8(v))),
  );
  // timestamptz (1184) and timestamp (1114) keep node-pg's default parser: a JS Date.
  return types;
}

const pools = new WeakMap<Kysely<DB>, pg.Pool>();

/**
 * The pg pool behind a Kysely instance made by createDatabase(). Repositories use it for what Kysely cannot do
 * (COPY streams) without changing their constructor signature.
 */
export function poolOf(db: Kysely<DB>): pg.Pool | undefined {
  return pools.get(db);
}

export function createDatabase(url: string, opts: DatabaseOptions = {}): Database {
  const statementTimeoutMs = opts.statementTimeoutMs ?? 30_000;
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? 'specfleet',
    // Sent in the startup packet, so it holds for every statement on every connection of the pool.
    // (node-pg omits it when 0, leaving the server default: no timeout.)
    statement_timeout: statementTimeoutMs > 0 ? statementTimeoutMs : false,
    // No JIT: specfleet's statements are short, and the energy report of a ~2,000-vehicle tenant crosses
    // jit_above_cost, where compiling took 0.9–3 s of a report that runs in ~0.2 s (EXPLAIN in the energy benchmark).
    // extra_float_digits = 1 (PostgreSQL's default since 12): a float8 is written with the shortest digits that read
    // back exactly, in a row and in json alike. A server or database configured with 0 (the default before
    // PostgreSQL 12, which an upgraded postgresql.conf may still carry) writes 15 significant digits: every energy
    // figure read here would be rounded, and the energy report's answer would no longer equal the same figures from
    // raw rows (the guarantee its tests and benchmark check).
    options: '-c jit=off -c extra_float_digits=1',
    types: buildTypes(),
  });
  const onPoolError =
    opts.onPoolError ??
    ((err: Error) => {
      process.stderr.write(`${JSON.stringify({ level: 'warn', msg: 'database pool: idle client error', err: err.message })}\n`);
    });
  pool.on('error', (err) => {
    try {
      onPoolError(err);
    } catch {
      // A throwing handler must not turn a dropped connection into a crash either.
    }
  });
  // pg-pool listens for 'error' only on idle clients: a client checked out for a transaction whose connection drops
  // between two statements emits 'error' with no listener, which would crash the process (SPEC §4.5). This permanent
  // listener makes that a failed statement instead: the next query on the dead client rejects, the caller retries,
  // and the pool discards the client on release.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });

  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  pools.set(db, pool);

  let closing: Promise<void> | undefined;
  return {
    db,
    pool,
    close() {
      // Kysely.destroy() ends the pool; memoised because pg.Pool.end() throws when called twice.
      closing ??= db.destroy();
      return closing;
    },
  };
}
