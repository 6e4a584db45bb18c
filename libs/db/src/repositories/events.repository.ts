// Writes events (alarms, DTCs, state changes, incidents), idempotent on (vehicle_id, ts, seq).
import { Inject, Injectable } from '@nestjs/common';
import { CompiledQuery, type Kysely } from 'kysely';
import { DATABASE, type DB } from '../database.js';
import type { EventTable, NewEventRow } from '../tables/event.table.js';
import { type BulkColumn, unnestInsertSql, unnestParameters } from './bulk.js';
import type { BulkInsertResult } from './telemetry.repository.js';

/** Every events column, in table order: the order of the unnest parameters. */
export const EVENT_COLUMNS = [
  { name: 'ts', kind: 'timestamptz' },
  { name: 'seq', kind: 'int8' },
  { name: 'received_at', kind: 'timestamptz' },
  { name: 'level', kind: 'int2' },
  { name: 'active', kind: 'bool' },
  { name: 'vehicle_id', kind: 'text' },
  { name: 'kind', kind: 'text' },
  { name: 'code', kind: 'text' },
  { name: 'message', kind: 'text' },
  { name: 'data', kind: 'jsonb' },
] as const satisfies ReadonlyArray<BulkColumn<keyof EventTable>>;

type MissingColumn = Exclude<keyof EventTable, (typeof EVENT_COLUMNS)[number]['name']>;
const allColumnsListed: [MissingColumn] extends [never] ? true : MissingColumn = true;
void allColumnsListed;

// Hot path: one statement per batch over unnest arrays (see telemetry.repository.ts).
const UNNEST_INSERT = unnestInsertSql('events', EVENT_COLUMNS);

@Injectable()
export class EventsRepository {
  constructor(@Inject(DATABASE) private readonly db: Kysely<DB>) {}

  async insertBatch(rows: readonly NewEventRow[]): Promise<BulkInsertResult> {
    if (rows.length === 0) return { inserted: 0, duplicates: 0 };
    const result = await this.db.executeQuery(CompiledQuery.raw(UNNEST_INSERT, unnestParameters(EVENT_COLUMNS, rows)));
    const inserted = Number(result.numAffectedRows ?? 0n);
    return { inserted, duplicates: rows.length - inserted };
  }
}
