// Query-string times and ranges: strict parsing (RFC 3339 date-times or plain UTC dates), from < to, and a
// maximum span per endpoint, so one request can never ask the database for years of raw rows (SPEC §4.7).
import { parseIsoTimestamp } from '@fleet/contracts';
import { ApiError } from './api-error.js';

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * The times a query may name: 1970-01-01T00:00:00Z up to 9999-12-31T23:59:59.999Z. Outside it PostgreSQL refuses
 * what we send (it has no year 0; Date#toISOString writes years past 9999 as "+010000-…"), which would be a 500;
 * and no vehicle reports from before 1970, so the bound costs nothing. Derived times (from − lookback, bucket
 * origins) stay well inside what both sides represent.
 */
export const MIN_QUERY_TIME_MS = Date.UTC(1970, 0, 1);
export const MAX_QUERY_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** `2026-11-26T08:00:00Z`, `…+08:00`, or `2026-11-26` (midnight UTC) → epoch ms; NaN when unparsable. */
export function parseQueryTime(value: string): number {
  const date = DATE_ONLY.exec(value);
  if (date) return parseIsoTimestamp(`${value}T00:00:00Z`);
  return parseIsoTimestamp(value);
}

export interface TimeRange {
  from: Date;
  to: Date;
}

export interface RangeRules {
  /** Longest allowed to − from, seconds. */
  maxRangeS: number;
  /** Span used when `from` is absent (to − default). */
  defaultSpanS: number;
  /** Clock for the default `to` (tests pin it). */
  now?: () => number;
}

function parseOne(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseQueryTime(value);
  if (Number.isNaN(ms)) {
    throw new ApiError('invalid_time', `${name} must be an ISO-8601 UTC time such as 2026-11-26T08:00:00Z (or a date 2026-11-26), got ${JSON.stringify(value.slice(0, 40))}`);
  }
  if (ms < MIN_QUERY_TIME_MS || ms > MAX_QUERY_TIME_MS) {
    throw new ApiError('invalid_time', `${name} must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z, got ${JSON.stringify(value.slice(0, 40))}`);
  }
  return ms;
}

/** Resolves ?from&to: both optional (to defaults to now, from to to − defaultSpanS); half-open [from, to). */
export function resolveRange(from: string | undefined, to: string | undefined, rules: RangeRules): TimeRange {
  const toMs = parseOne('to', to) ?? (rules.now ?? Date.now)();
  // A default from before the earliest queryable time is clamped to it rather than refused: the caller did not
  // name it, and nothing is stored before then anyway.
  const fromMs = parseOne('from', from) ?? Math.max(MIN_QUERY_TIME_MS, toMs - rules.defaultSpanS * 1000);
  if (fromMs >= toMs) throw new ApiError('invalid_range', 'from must be before to');
  if (toMs - fromMs > rules.maxRangeS * 1000) {
    throw new ApiError('range_too_long', `the range from–to may span at most ${formatSpan(rules.maxRangeS)} here`);
  }
  return { from: new Date(fromMs), to: new Date(toMs) };
}

export function formatSpan(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} day(s)`;
  if (seconds % 3_600 === 0) return `${seconds / 3_600} hour(s)`;
  return `${seconds} s`;
}

const BUCKET = /^(\d{1,7})(s|m|h|d)$/;
const UNIT_S = { s: 1, m: 60, h: 3_600, d: 86_400 } as const;

/** `30s`, `5m`, `1h`, `1d` → seconds; throws invalid_bucket otherwise. */
export function parseBucket(value: string): number {
  const m = BUCKET.exec(value);
  const seconds = m ? Number(m[1]) * UNIT_S[m[2] as keyof typeof UNIT_S] : Number.NaN;
  if (!m || !(seconds > 0)) throw new ApiError('invalid_bucket', `bucket must be a positive duration such as 30s, 5m, 1h or 1d, got ${JSON.stringify(value.slice(0, 20))}`);
  return seconds;
}
