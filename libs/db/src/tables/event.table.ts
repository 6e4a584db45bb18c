// events: one row per accepted event (SPEC §3 event v1: alarm | dtc | state | incident), a hypertable on TimescaleDB.
// Storage order as in telemetry.table.ts; no CHECK constraints for the same reason (batch inserts).
import type { Insertable, Selectable } from 'kysely';
import type { GeneratedTimestamp, Int8, JsonbObject, Timestamp } from './column-types.js';

export interface EventTable {
  ts: Timestamp;
  seq: Int8;
  received_at: GeneratedTimestamp;
  /** GB/T 32960 alarm level: 1 no effect on driving, 2 degraded, 3 stop now (null for non-alarms). */
  level: number | null; // smallint
  /** true when the condition starts, false when it clears. */
  active: boolean | null;
  vehicle_id: string;
  kind: string;
  code: string | null;
  message: string | null;
  data: JsonbObject | null;
}

export type EventRow = Selectable<EventTable>;
export type NewEventRow = Insertable<EventTable>;
