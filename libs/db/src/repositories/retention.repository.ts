// Removes old rows for the retention job: whole chunks on TimescaleDB hypertables, batched deletes on PostgreSQL
// (short transactions, so autovacuum keeps up and no lock is held for long).
import { Inject, Injectable } from '@nestjs/common';
import { CompiledQuery, type Kysely } from 'kysely';
import { DATABASE, type DB } from '../database.js';
import type { StorageBackend } from '../backend.js';

/** Tables retention may trim, with their time column. */
export const RETENTION_TABLES = { telemetry: 'ts', events: 'ts', dead_letters: 'received_at', energy_10min: 'bucket' } as const;
export type RetentionTable = keyof typeof RETENTION_TABLES;

export interface RetentionResult {
  table: RetentionTable;
  /** 'drop_chunks' (TimescaleDB hypertable) or 'delete' (batched DELETE). */
  method: 'drop_chunks' | 'delete';
  /** Chunks dropped or rows deleted. */
  removed: number;
}

@Injectable()
export class RetentionRepository {
  constructor(@Inject(DATABASE) private readonly db: Kysely<DB>) {}

  /**
   * Removes the rows of `table` older than `cutoff`. On TimescaleDB, telemetry and events lose whole chunks that end
   * before the cutoff (rows up to one chunk interval older than the cutoff may remain until the next run); elsewhere
   * rows are deleted `batchSize` at a time, each batch its own statement, until none is left, `maxBatches` ran, or
   * `signal` is aborted (checked between batches: a process shutting down waits for one batch, not a thousand).
   */
  async removeOlderThan(
    table: RetentionTable,
    cutoff: Date,
    backend: StorageBackend,
    opts: { batchSize?: number; maxBatches?: number; signal?: AbortSignal } = {},
  ): Promise<RetentionResult> {
    const column = RETENTION_TABLES[table];
    if (backend === 'timescaledb' && (table === 'telemetry' || table === 'events')) {
      const r = await this.db.executeQuery<{ chunk: string }>(
        CompiledQuery.raw(`SELECT drop_chunks($1::regclass, older_than => $2::timestamptz) AS chunk`, [table, cutoff.toISOString()]),
      );
      return { table, method: 'drop_chunks', removed: r.rows.length };
    }
    const batchSize = opts.batchSize ?? 10_000;
    const maxBatches = opts.maxBatches ?? 1_000;
    // ctid batches: DELETE has no LIMIT; the BRIN index on the time column (telemetry/events) or the B-tree
    // (dead_letters.received_at, energy_10min.bucket) finds the old rows.
    const statement = `DELETE FROM ${table} WHERE ctid = ANY (ARRAY(SELECT ctid FROM ${table} WHERE ${column} < $1::timestamptz LIMIT $2))`;
    let removed = 0;
    for (let i = 0; i < maxBatches && !opts.signal?.aborted; i++) {
      const r = await this.db.executeQuery(CompiledQuery.raw(statement, [cutoff.toISOString(), batchSize]));
      const n = Number(r.numAffectedRows ?? 0n);
      removed += n;
      if (n < batchSize) break;
    }
    return { table, method: 'delete', removed };
  }
}
