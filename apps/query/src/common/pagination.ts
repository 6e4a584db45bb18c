// Cursor pagination: a page is `limit` items plus an opaque cursor for the next one (null on the last page).
// The cursor is base64url JSON of the last item's sort key, so pages stay stable while rows are inserted.
import { ApiError } from './api-error.js';
import type { PageLimits } from '../query.options.js';

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** Decodes a cursor made by encodeCursor into `arity` keys of the given kinds; anything else is invalid_cursor. */
export function decodeCursor(cursor: string | undefined, kinds: ReadonlyArray<'string' | 'number'>): Array<string | number> | undefined {
  if (cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== kinds.length ||
    parsed.some((v, i) => typeof v !== kinds[i] || (typeof v === 'number' && !Number.isFinite(v)) || (typeof v === 'string' && v.length > 200))
  ) {
    throw new ApiError('invalid_cursor', 'cursor is not one this API returned; start again without it');
  }
  return parsed as Array<string | number>;
}

/** limit= → a page size within the limits (default when absent; page_too_large beyond the maximum). */
export function resolveLimit(limit: number | undefined, limits: PageLimits): number {
  if (limit === undefined) return limits.defaultSize;
  if (!Number.isInteger(limit) || limit < 1) throw new ApiError('invalid_parameter', 'limit must be a positive integer');
  if (limit > limits.maxSize) throw new ApiError('page_too_large', `limit may be at most ${limits.maxSize}`);
  return limit;
}

/** Given limit + 1 fetched rows, the page and the cursor of its last item. */
export function toPage<R, T>(rows: R[], limit: number, key: (row: R) => readonly (string | number)[], map: (row: R) => T): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return { items: kept.map(map), next_cursor: more && last !== undefined ? encodeCursor(key(last)) : null };
}
