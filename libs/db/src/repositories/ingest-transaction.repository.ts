// One transaction on one dedicated connection for an ingestion batch, with both a Kysely handle (for the other
// repositories) and COPY for telemetry on the same connection. Kysely cannot hand out the pg client of a transaction,
// and COPY needs it. Measured on full telemetry rows (apps/ingestion/scripts/measure-insert.ts), COPY into a staging
// table + INSERT … SELECT ON CONFLICT DO NOTHING is ~1.1–1.5× faster than INSERT … SELECT unnest, and COPY straight
// into telemetry another ~1.4× — but COPY cannot skip duplicates. So the batch's telemetry is the transaction's FIRST
// statement: COPY straight in, and if a row is already stored (a redelivery), roll the transaction back (it holds
// nothing else yet) and start it again on the staging path. No savepoint: one round trip less per batch each way
// (SAVEPOINT, RELEASE), and no subtransaction for every row of every batch to carry. After a fallback the next batches
// go to the staging path until one of them finds no duplicate (a redelivery storm after a restart comes in runs).
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Inject, Injectable } from '@nestjs/common';
import { Kysely, PostgresDialect } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DATABASE, type DB, poolOf } from '../database.js';
import type { NewTelemetryRow } from '../tables/telemetry.table.js';
import type { StageInto } from './bulk.js';
import { type BulkInsertResult, TELEMETRY_COPY_DIRECT, telemetryCopyBinary, telemetryStageSql } from './telemetry.repository.js';

export interface IngestTransaction {
  /** Kysely bound to the transaction's connection: construct repositories with it. */
  readonly db: Kysely<DB>;
  /** What the COPY of the batch's telemetry did (duplicates skipped and counted). */
  readonly telemetry: BulkInsertResult;
  /** COPY (FORMAT binary) into a staging table of this connection, created on first use (bulk.ts StagingTable). */
  readonly stage: StageInto;
}

const TELEMETRY_STAGE = telemetryStageSql('specfleet_ingest_telemetry_stage');
const UNIQUE_VIOLATION = '23505';

/** Per pooled connection (pg.Pool reuses client objects): its Kysely and the staging tables it has created. */
interface Bound {
  db: Kysely<DB>;
  staged: Set<string>;
}
const bound = new WeakMap<pg.PoolClient, Bound>();

function bind(client: pg.PoolClient): Bound {
  let b = bound.get(client);
  if (!b) {
    // A one-connection "pool" for Kysely: it always hands out this client and never releases it (we do).
    const single = { query: client.query.bind(client), release: () => undefined };
    const fakePool = { connect: async () => single, end: async () => undefined, options: {} };
    b = { db: new Kysely<DB>({ dialect: new PostgresDialect({ pool: fakePool as unknown as pg.Pool }) }), staged: new Set() };
    bound.set(client, b);
  }
  return b;
}

async function copyIn(client: pg.PoolClient, sql: string, payload: Buffer): Promise<void> {
  await pipeline(Readable.from([payload]), client.query(copyFrom(sql)));
}

@Injectable()
export class IngestTransactionRepository {
  /** True while recent batches held redeliveries: COPY straight in would fail and be done twice. */
  private preferStaging = false;

  constructor(@Inject(DATABASE) private readonly db: Kysely<DB>) {}

  /**
   * BEGIN, COPY of `telemetry` (idempotent on the unique key), body, COMMIT on one pool connection; ROLLBACK (or
   * discard the connection if that fails) on error. The body may run on a transaction begun a second time (after the
   * direct COPY met a duplicate), never twice.
   */
  async run<T>(telemetry: readonly NewTelemetryRow[], body: (tx: IngestTransaction) => Promise<T>): Promise<T> {
    const pool = poolOf(this.db);
    if (!pool) throw new Error('IngestTransactionRepository needs a Kysely instance created by createDatabase()');
    const client = await pool.connect();
    let broken: Error | undefined;
    const b = bind(client);
    // Tables staged into by this transaction: ON COMMIT DELETE ROWS empties them only at commit, so a second COPY
    // into one of them in the same transaction empties it first (the statement after it reads the table whole).
    const stagedNow = new Set<string>();
    const stage: StageInto = async (table, payload) => {
      if (!b.staged.has(table.name)) {
        await client.query(table.create);
        // Created inside this transaction, so a rollback drops it again: forgotten in the catch below.
        b.staged.add(table.name);
      } else if (stagedNow.has(table.name)) {
        await client.query(`TRUNCATE ${table.name}`);
      }
      stagedNow.add(table.name);
      await copyIn(client, table.copy, payload);
    };
    try {
      await client.query('BEGIN');
      let result: BulkInsertResult = { inserted: 0, duplicates: 0 };
      if (telemetry.length > 0) {
        const payload = telemetryCopyBinary(telemetry);
        let direct = !this.preferStaging;
        if (direct) {
          try {
            await copyIn(client, TELEMETRY_COPY_DIRECT, payload);
            result = { inserted: telemetry.length, duplicates: 0 };
          } catch (err) {
            if ((err as { code?: unknown }).code !== UNIQUE_VIOLATION) throw err;
            await client.query('ROLLBACK');
            await client.query('BEGIN');
            direct = false;
          }
        }
        if (!direct) {
          await stage(TELEMETRY_STAGE, payload);
          const inserted = (await client.query(TELEMETRY_STAGE.insert)).rowCount ?? 0;
          result = { inserted, duplicates: telemetry.length - inserted };
          this.preferStaging = result.duplicates > 0;
        }
      }
      const out = await body({ db: b.db, telemetry: result, stage });
      await client.query('COMMIT');
      return out;
    } catch (err) {
      b.staged.clear(); // a CREATE may have been rolled back with the transaction
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
