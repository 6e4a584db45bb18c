// Stores messages that could not be accepted (SPEC §4.3), with the raw payload truncated.
import { Inject, Injectable } from '@nestjs/common';
import type { Kysely } from 'kysely';
import { DATABASE, type DB } from '../database.js';

/** Raw payload bytes kept per dead letter; raw_size keeps the full size. */
export const DEAD_LETTER_RAW_LIMIT = 4096;
// 7 parameters per row: stay far below PostgreSQL's 65 535 parameters per statement.
const CHUNK = 1000;

export interface NewDeadLetter {
  topic: string;
  vehicleId?: string | null;
  /** Reason code, e.g. malformed_json, schema, unknown_version, ts_out_of_window, oversize. */
  reason: string;
  detail?: string | null;
  /** The payload as received (ingestion passes an array's rejected elements instead); truncated here. */
  raw?: Buffer | Uint8Array | string | null;
  receivedAt?: Date;
}

@Injectable()
export class DeadLetterRepository {
  constructor(@Inject(DATABASE) private readonly db: Kysely<DB>) {}

  /** Inserts the dead letters (any number); returns how many were written. */
  async insert(letters: readonly NewDeadLetter[]): Promise<number> {
    let written = 0;
    for (let i = 0; i < letters.length; i += CHUNK) {
      const values = letters.slice(i, i + CHUNK).map((l) => {
        const raw = l.raw === undefined || l.raw === null ? null : typeof l.raw === 'string' ? Buffer.from(l.raw, 'utf8') : Buffer.from(l.raw.buffer, l.raw.byteOffset, l.raw.byteLength);
        return {
          topic: l.topic,
          vehicle_id: l.vehicleId ?? null,
          reason: l.reason,
          detail: l.detail ?? null,
          // subarray shares memory; node-pg copies it into the query, so nothing large is retained.
          raw: raw === null ? null : raw.subarray(0, DEAD_LETTER_RAW_LIMIT),
          raw_size: raw === null ? 0 : raw.byteLength,
          ...(l.receivedAt ? { received_at: l.receivedAt } : {}),
        };
      });
      const result = await this.db.insertInto('dead_letters').values(values).executeTakeFirst();
      written += Number(result.numInsertedOrUpdatedRows ?? 0n);
    }
    return written;
  }
}
