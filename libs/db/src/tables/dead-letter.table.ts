// dead_letters: every message that could not be stored (SPEC §4.3), with its raw bytes truncated.
import type { Generated, Insertable, Selectable } from 'kysely';
import type { Bytea, GeneratedTimestamp, Int8 } from './column-types.js';

export interface DeadLetterTable {
  id: Generated<Int8>; // bigserial
  received_at: GeneratedTimestamp;
  topic: string;
  vehicle_id: string | null;
  /** Machine-readable reason code (e.g. malformed_json, schema, ts_out_of_window, oversize). */
  reason: string;
  detail: string | null;
  /** The first DEAD_LETTER_RAW_LIMIT bytes of the payload. */
  raw: Bytea | null;
  /** Size of the whole payload in bytes. */
  raw_size: number;
}

export type DeadLetterRow = Selectable<DeadLetterTable>;
export type NewDeadLetterRow = Insertable<DeadLetterTable>;
