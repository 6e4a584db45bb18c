// Writes (and later reads) telemetry samples. Both bulk paths are idempotent on (vehicle_id, ts, seq).
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Inject, Injectable } from '@nestjs/common';
import { CompiledQuery, type Kysely } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DATABASE, type DB, poolOf } from '../database.js';
import type { NewTelemetryRow, TelemetryTable } from '../tables/telemetry.table.js';
import { type BulkColumn, type StagingTable, stagingTable, unnestInsertSql, unnestParameters } from './bulk.js';
import { compileBinaryCopy } from './copy-binary.js';

/** Every telemetry column, in table order: the order of the unnest parameters ($1 … $40) and of the COPY fields. */
export const TELEMETRY_COLUMNS = [
  { name: 'ts', kind: 'timestamptz' },
  { name: 'seq', kind: 'int8' },
  { name: 'received_at', kind: 'timestamptz' },
  { name: 'lat', kind: 'float8' },
  { name: 'lon', kind: 'float8' },
  { name: 'odometer_km', kind: 'float8' },
  { name: 'traction_kwh', kind: 'float8' },
  { name: 'body_kwh', kind: 'float8' },
  { name: 'regen_kwh', kind: 'float8' },
  { name: 'charged_kwh', kind: 'float8' },
  { name: 'h2_used_kg', kind: 'float8' },
  { name: 'fuel_used_l', kind: 'float8' },
  { name: 'engine_hours', kind: 'float8' },
  { name: 'body_hours', kind: 'float8' },
  { name: 'alt_m', kind: 'float4' },
  { name: 'heading_deg', kind: 'float4' },
  { name: 'speed_kmh', kind: 'float4' },
  { name: 'soc_pct', kind: 'float4' },
  { name: 'battery_voltage_v', kind: 'float4' },
  { name: 'battery_current_a', kind: 'float4' },
  { name: 'battery_temp_max_c', kind: 'float4' },
  { name: 'battery_temp_min_c', kind: 'float4' },
  { name: 'cell_v_max', kind: 'float4' },
  { name: 'cell_v_min', kind: 'float4' },
  { name: 'soh_pct', kind: 'float4' },
  { name: 'h2_mass_kg', kind: 'float4' },
  { name: 'h2_pressure_mpa', kind: 'float4' },
  { name: 'fc_power_kw', kind: 'float4' },
  { name: 'fc_temp_c', kind: 'float4' },
  { name: 'fuel_level_pct', kind: 'float4' },
  { name: 'fuel_rate_lph', kind: 'float4' },
  { name: 'engine_rpm', kind: 'float4' },
  { name: 'coolant_c', kind: 'float4' },
  { name: 'body_power_kw', kind: 'float4' },
  { name: 'body_active', kind: 'bool' },
  { name: 'vehicle_id', kind: 'text' },
  { name: 'state', kind: 'text' },
  { name: 'body_type', kind: 'text' },
  { name: 'body_signals', kind: 'jsonb' },
  { name: 'dtc', kind: 'text[]' },
] as const satisfies ReadonlyArray<BulkColumn<keyof TelemetryTable>>;

// Compile-time guard: a column added to TelemetryTable but not to TELEMETRY_COLUMNS fails typechecking here.
type MissingColumn = Exclude<keyof TelemetryTable, (typeof TELEMETRY_COLUMNS)[number]['name']>;
const allColumnsListed: [MissingColumn] extends [never] ? true : MissingColumn = true;
void allColumnsListed;

/** COPY binary payload of telemetry rows, columns in TELEMETRY_COLUMNS order (`COPY … FROM STDIN (FORMAT binary)`). */
export const telemetryCopyBinary = compileBinaryCopy(TELEMETRY_COLUMNS);

export interface BulkInsertResult {
  /** Rows that were new. */
  inserted: number;
  /** Rows skipped because (vehicle_id, ts, seq) already existed, in the table or earlier in the same batch. */
  duplicates: number;
}

const COLUMN_LIST = TELEMETRY_COLUMNS.map((c) => c.name).join(', ');
// Hot path, so raw SQL built once: one statement whatever the batch size (40 array parameters instead of 40 × rows
// scalars, which would hit the 65 535-parameter limit at ~1 600 rows and make every batch size a new plan).
// ON CONFLICT DO NOTHING skips rows already stored and duplicates inside the batch alike; rowCount counts the new
// ones without a RETURNING list to ship back.
const UNNEST_INSERT = unnestInsertSql('telemetry', TELEMETRY_COLUMNS);

/**
 * The statements of the staging path (COPY cannot skip rows already stored): a session-local table emptied at commit,
 * the binary COPY into it, and the INSERT … SELECT … ON CONFLICT DO NOTHING that moves the new rows to telemetry.
 * `stage` names the table, so the repository and the ingestion transaction each track their own per connection.
 */
export function telemetryStageSql(stage: string): StagingTable & { insert: string } {
  return {
    ...stagingTable(stage, TELEMETRY_COLUMNS),
    insert: `INSERT INTO telemetry (${COLUMN_LIST}) SELECT ${TELEMETRY_COLUMNS.map((c) =>
      c.name === 'received_at' ? 'COALESCE(received_at, now())' : c.name,
    ).join(', ')} FROM ${stage} ON CONFLICT DO NOTHING`,
  };
}

/** COPY straight into telemetry (fails on a row already stored). */
export const TELEMETRY_COPY_DIRECT = `COPY telemetry (${COLUMN_LIST}) FROM STDIN (FORMAT binary)`;

const STAGE_SQL = telemetryStageSql('specfleet_telemetry_stage');

/** Connections that already hold the session's staging table (pg.Pool reuses client objects). */
const stagedClients = new WeakSet<pg.PoolClient>();

@Injectable()
export class TelemetryRepository {
  constructor(@Inject(DATABASE) private readonly db: Kysely<DB>) {}

  /**
   * Inserts a batch in ONE statement: INSERT … SELECT … FROM unnest($1::timestamptz[], $2::bigint[], …)
   * ON CONFLICT DO NOTHING. Works on a Transaction too (construct the repository with the trx).
   */
  async insertBatch(rows: readonly NewTelemetryRow[]): Promise<BulkInsertResult> {
    if (rows.length === 0) return { inserted: 0, duplicates: 0 };
    const result = await this.db.executeQuery(CompiledQuery.raw(UNNEST_INSERT, unnestParameters(TELEMETRY_COLUMNS, rows)));
    const inserted = Number(result.numAffectedRows ?? 0n);
    return { inserted, duplicates: rows.length - inserted };
  }

  /**
   * The COPY alternative to insertBatch, kept so ingestion can measure both: COPY into a session-local staging
   * table (created once per connection, emptied at commit), then INSERT … SELECT … ON CONFLICT DO NOTHING, all in
   * one transaction on a dedicated pool connection. COPY cannot skip conflicts itself, hence the staging table.
   * Needs the pool of a Kysely made by createDatabase() (not a Transaction).
   */
  async copyBatch(rows: readonly NewTelemetryRow[]): Promise<BulkInsertResult> {
    if (rows.length === 0) return { inserted: 0, duplicates: 0 };
    const pool = poolOf(this.db);
    if (!pool) throw new Error('TelemetryRepository.copyBatch needs a Kysely instance created by createDatabase()');
    const payload = telemetryCopyBinary(rows);
    const client = await pool.connect();
    let failure: Error | undefined;
    try {
      await client.query('BEGIN');
      const hadStage = stagedClients.has(client);
      if (!hadStage) await client.query(STAGE_SQL.create);
      await pipeline(Readable.from([payload]), client.query(copyFrom(STAGE_SQL.copy)));
      const result = await client.query(STAGE_SQL.insert);
      await client.query('COMMIT');
      if (!hadStage) stagedClients.add(client);
      const inserted = result.rowCount ?? 0;
      return { inserted, duplicates: rows.length - inserted };
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
      try {
        await client.query('ROLLBACK');
        failure = undefined; // the connection is usable again
      } catch {
        // keep failure: release(failure) destroys the broken connection instead of returning it to the pool
      }
      throw err;
    } finally {
      client.release(failure);
    }
  }
}
