// One transaction on one dedicated connection for an ingestion batch, with both a Kysely handle (for the other
// repositories) and COPY for telemetry on the same connection. Kysely cannot hand out the pg client of a transaction,
// and COPY needs it. Measured on full telemetry rows (apps/ingestion/scripts/measure-insert.ts), COPY into a staging
// table + INSERT … SELECT ON CONFLICT DO NOTHING is ~1.1–1.5× faster than INSERT … SELECT unnest, and COPY straight
// into telemetry another ~1.4× — but COPY cannot skip duplicates, so it runs under a savepoint and a batch holding a
// row already stored (a redelivery) falls back to the staging path.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Inject, Injectable } from '@nestjs/common';
import { Kysely, PostgresDialect } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DATABASE, type DB, poolOf } from '../database.js';
import type { NewTelemetryRow } from '../tables/telemetry.table.js';
import { copyPayload, stagingColumnDef } from './bulk.js';
import { type BulkInsertResult, TELEMETRY_COLUMNS } from './telemetry.repository.js';

export interface IngestTransaction {
  /** Kysely bound to the transaction's connection: construct repositories with it. */
  readonly db: Kysely<DB>;
  /** COPY the rows into telemetry (duplicates skipped and counted), inside the transaction. */
  copyTelemetry(rows: readonly NewTelemetryRow[]): Promise<BulkInsertResult>;
}

const STAGE = 'specfleet_ingest_telemetry_stage';
const COLUMN_LIST = TELEMETRY_COLUMNS.map((c) => c.name).join(', ');
const CREATE_STAGE = `CREATE TEMP TABLE IF NOT EXISTS ${STAGE} (${TELEMETRY_COLUMNS.map((c) => stagingColumnDef(c.name, c.kind)).join(', ')}) ON COMMIT DELETE ROWS`;
const COPY_STAGE = `COPY ${STAGE} (${COLUMN_LIST}) FROM STDIN`;
const COPY_DIRECT = `COPY telemetry (${COLUMN_LIST}) FROM STDIN`;
const UNIQUE_VIOLATION = '23505';
const STAGE_INSERT = `INSERT INTO telemetry (${COLUMN_LIST}) SELECT ${TELEMETRY_COLUMNS.map((c) =>
  c.name === 'received_at' ? 'COALESCE(received_at, now())' : c.name,
).join(', ')} FROM ${STAGE} ON CONFLICT DO NOTHING`;

/** Per pooled connection (pg.Pool reuses client objects): its Kysely and whether its staging table exists. */
const bound = new WeakMap<pg.PoolClient, { db: Kysely<DB>; staged: boolean }>();

function bind(client: pg.PoolClient): { db: Kysely<DB>; staged: boolean } {
  let b = bound.get(client);
  if (!b) {
    // A one-connection "pool" for Kysely: it always hands out this client and never releases it (we do).
    const single = { query: client.query.bind(client), release: () => undefined };
    const fakePool = { connect: async () => single, end: async () => undefined, options: {} };
    b = { db: new Kysely<DB>({ dialect: new PostgresDialect({ pool: fakePool as unknown as pg.Pool }) }), staged: false };
    bound.set(client, b);
  }
  return b;
}

@Injectable()
export class IngestTransactionRepository {
  constructor(@Inject(DATABASE) private readonly db: Kysely<DB>) {}

  /** BEGIN, body, COMMIT on one pool connection; ROLLBACK (or discard the connection if that fails) on error. */
  async run<T>(body: (tx: IngestTransaction) => Promise<T>): Promise<T> {
    const pool = poolOf(this.db);
    if (!pool) throw new Error('IngestTransactionRepository needs a Kysely instance created by createDatabase()');
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      const b = bind(client);
      await client.query('BEGIN');
      const tx: IngestTransaction = {
        db: b.db,
        copyTelemetry: async (rows) => {
          if (rows.length === 0) return { inserted: 0, duplicates: 0 };
          const payload = copyPayload(TELEMETRY_COLUMNS, rows);
          await client.query('SAVEPOINT specfleet_copy');
          try {
            await pipeline(Readable.from([payload]), client.query(copyFrom(COPY_DIRECT)));
            await client.query('RELEASE SAVEPOINT specfleet_copy');
            return { inserted: rows.length, duplicates: 0 };
          } catch (err) {
            if ((err as { code?: unknown }).code !== UNIQUE_VIOLATION) throw err;
            await client.query('ROLLBACK TO SAVEPOINT specfleet_copy');
          }
          if (!b.staged) {
            await client.query(CREATE_STAGE);
            b.staged = true; // a temp table lives as long as the connection; created inside this transaction, so
            // a rollback drops it again: reset below.
          }
          await pipeline(Readable.from([payload]), client.query(copyFrom(COPY_STAGE)));
          const result = await client.query(STAGE_INSERT);
          const inserted = result.rowCount ?? 0;
          return { inserted, duplicates: rows.length - inserted };
        },
      };
      const result = await body(tx);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      const b = bound.get(client);
      if (b) b.staged = false; // the CREATE may have been rolled back with the transaction
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }
}
