// Parses the `ts` of a payload to epoch milliseconds: RFC 3339 date-times (ISO-8601 with `Z` or ±hh:mm) or
// non-negative epoch-ms integers. Hand-written because Date.parse is lenient (local time for offset-less strings,
// implementation-defined formats, 2026-02-30 rolls over) and it runs once per sample.

const MS_PER_DAY = 86_400_000;

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil): pure integer math,
// valid for every year, unlike Date.UTC which maps years 0..99 to 1900..1999.
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Two or four ASCII digits at `i`, or -1. */
function digits(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(i + k) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)` → epoch ms (sub-millisecond digits truncated), or NaN.
 * `t`/`z` may be lower-case (RFC 3339 §5.6). Leap second 60 and offset-less local times are refused.
 */
export function parseIsoTimestamp(s: string): number {
  const len = s.length;
  if (len < 20 || len > 35) return Number.NaN;
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  const se = digits(s, 17, 2);
  const t = s.charCodeAt(10);
  if (
    y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59 ||
    s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || (t !== 84 && t !== 116) ||
    s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58 || d > daysInMonth(y, mo)
  ) {
    return Number.NaN;
  }
  let i = 19;
  let ms = 0;
  if (s.charCodeAt(i) === 46 /* . */) {
    i++;
    const start = i;
    while (i < len && i - start < 10) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      if (i - start < 3) ms = ms * 10 + c;
      i++;
    }
    const n = i - start;
    if (n < 1 || n > 9) return Number.NaN;
    if (n === 1) ms *= 100;
    else if (n === 2) ms *= 10;
  }
  let offsetMin = 0;
  const z = s.charCodeAt(i);
  if (z === 90 || z === 122) {
    if (i + 1 !== len) return Number.NaN;
  } else if (z === 43 || z === 45) {
    if (i + 6 !== len || s.charCodeAt(i + 3) !== 58) return Number.NaN;
    const oh = digits(s, i + 1, 2);
    const om = digits(s, i + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return Number.NaN;
    offsetMin = (z === 43 ? 1 : -1) * (oh * 60 + om);
  } else {
    return Number.NaN;
  }
  return daysFromCivil(y, mo, d) * MS_PER_DAY + ((h * 60 + mi - offsetMin) * 60 + se) * 1000 + ms;
}

/** A payload `ts` → epoch ms, or NaN when it is neither an RFC 3339 string nor a non-negative epoch-ms integer. */
export function parseTimestamp(ts: unknown): number {
  if (typeof ts === 'number') return Number.isSafeInteger(ts) && ts >= 0 ? ts : Number.NaN;
  if (typeof ts === 'string') return parseIsoTimestamp(ts);
  return Number.NaN;
}
