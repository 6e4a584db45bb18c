// Cursor pagination: a page is `limit` items plus an opaque cursor for the next one (null on the last page).
// The cursor is base64url JSON of the listing's tag followed by the last item's sort key, so pages stay stable while
// rows are inserted. The tag ties a cursor to the listing that issued it: several listings share a key shape (raw
// telemetry and vehicle events are both [ts, seq], one read "after", the other "before"), so without it a cursor
// from one was accepted by the other and silently gave a wrong page. Cursors issued before the tag existed (the bare
// key) are refused as invalid_cursor; a client starts again from the first page.
import { ApiError } from './api-error.js';
import { MAX_QUERY_TIME_MS } from './time-range.js';
import type { PageLimits } from '../query.options.js';

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export function encodeCursor(listing: Listing, key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify([listing.tag, ...key])).toString('base64url');
}

/**
 * What each part of a cursor is bound to in SQL. A cursor comes back from the client, so every part is checked as if
 * it were a query parameter: a value the SQL cannot take (1.5 for a bigint, a time PostgreSQL cannot represent, a NUL
 * in a string) would otherwise fail inside the database as a 500 instead of a 400 invalid_cursor.
 *  - string: a sort key such as a vehicle id or an alarm code (at most 200 characters, no NUL: PostgreSQL text
 *    cannot hold U+0000);
 *  - time: epoch ms of a stored row, an integer from 0001-01-01 to 9999-12-31 (what both Date#toISOString and
 *    timestamptz represent; wider than the query range, since a bucket's label may precede `from`);
 *  - bigint: a sequence number (a safe integer, so it fits int8 and round-trips through JSON);
 *  - int: an int4 such as an alarm level.
 */
export type CursorKind = 'string' | 'time' | 'bigint' | 'int';

/** A paginated listing: the tag its cursors carry and the kinds of its sort key. */
export interface Listing {
  readonly tag: string;
  readonly kinds: readonly CursorKind[];
}

/** Every paginated listing, in one table so that no two share a tag (tags are short: they travel in every URL). */
export const LISTINGS = {
  fleetStatus: { tag: 'fs', kinds: ['string'] },
  fleetHealth: { tag: 'fh', kinds: ['string'] },
  vehicles: { tag: 'v', kinds: ['string'] },
  telemetryRaw: { tag: 'tr', kinds: ['time', 'bigint'] },
  // The last bucket's start and the bucket width: a cursor of 5-minute buckets continuing a 1-hour series would start
  // its first bucket mid-hour, silently short.
  telemetryBuckets: { tag: 'tb', kinds: ['time', 'int'] },
  vehicleEvents: { tag: 'ev', kinds: ['time', 'bigint'] },
  alarmsActive: { tag: 'aa', kinds: ['int', 'string', 'string'] },
  alarmsHistory: { tag: 'ah', kinds: ['time', 'string', 'bigint'] },
} as const satisfies Record<string, Listing>;

const MIN_CURSOR_TIME_MS = -62_135_596_800_000; // 0001-01-01T00:00:00Z (Date.UTC would read year 1 as 1901)
const INT4_MAX = 2_147_483_647;

function fits(value: unknown, kind: CursorKind): boolean {
  switch (kind) {
    case 'string':
      return typeof value === 'string' && value.length <= 200 && !value.includes('\u0000');
    case 'time':
      return Number.isInteger(value) && (value as number) >= MIN_CURSOR_TIME_MS && (value as number) <= MAX_QUERY_TIME_MS;
    case 'bigint':
      return Number.isSafeInteger(value);
    case 'int':
      return Number.isInteger(value) && Math.abs(value as number) <= INT4_MAX;
  }
}

/**
 * Decodes a cursor that encodeCursor made for this listing into its sort key; anything else — a forged cursor, one of
 * another listing, one from before cursors were tagged — is invalid_cursor.
 */
export function decodeCursor(cursor: string | undefined, listing: Listing): Array<string | number> | undefined {
  if (cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const { tag, kinds } = listing;
  if (!Array.isArray(parsed) || parsed.length !== kinds.length + 1 || parsed[0] !== tag || !kinds.every((kind, i) => fits(parsed[i + 1], kind))) {
    throw new ApiError('invalid_cursor', 'cursor is not one this listing returned; start again without it');
  }
  return parsed.slice(1) as Array<string | number>;
}

/** limit= → a page size within the limits (default when absent; page_too_large beyond the maximum). */
export function resolveLimit(limit: number | undefined, limits: PageLimits): number {
  if (limit === undefined) return limits.defaultSize;
  if (!Number.isInteger(limit) || limit < 1) throw new ApiError('invalid_parameter', 'limit must be a positive integer');
  if (limit > limits.maxSize) throw new ApiError('page_too_large', `limit may be at most ${limits.maxSize}`);
  return limit;
}

/** Given limit + 1 fetched rows, the page and the cursor (for this listing) of its last item. */
export function toPage<R, T>(rows: R[], limit: number, listing: Listing, key: (row: R) => readonly (string | number)[], map: (row: R) => T): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return { items: kept.map(map), next_cursor: more && last !== undefined ? encodeCursor(listing, key(last)) : null };
}
