import Type from 'typebox';
import { describe, expect, it } from 'vitest';
import { ApiError } from './api-error.js';
import { ERROR_CODE_KEYWORD } from './endpoint.js';
import { toErrorResponse } from './error.filter.js';
import { decodeCursor, encodeCursor, LISTINGS, resolveLimit, toPage } from './pagination.js';
import { parseBucket, parseQueryTime, resolveRange } from './time-range.js';
import { validateAgainst } from './validation.guard.js';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    return error instanceof ApiError ? error.code : 'not an ApiError';
  }
  return undefined;
};

describe('time ranges', () => {
  const rules = { maxRangeS: 86_400, defaultSpanS: 3600, now: () => Date.parse('2026-11-26T08:00:00Z') };
  it('parses RFC 3339 times and plain dates, and refuses the rest', () => {
    expect(parseQueryTime('2026-11-26T08:00:00Z')).toBe(Date.parse('2026-11-26T08:00:00Z'));
    expect(parseQueryTime('2026-11-26T16:00:00+08:00')).toBe(Date.parse('2026-11-26T08:00:00Z'));
    expect(parseQueryTime('2026-11-26')).toBe(Date.parse('2026-11-26T00:00:00Z'));
    for (const bad of ['2026-11-26T08:00:00', 'yesterday', '1764144000000', '2026-02-30']) expect(parseQueryTime(bad), bad).toBeNaN();
  });
  it('defaults, orders and bounds the range', () => {
    expect(resolveRange(undefined, undefined, rules)).toEqual({ from: new Date('2026-11-26T07:00:00Z'), to: new Date('2026-11-26T08:00:00Z') });
    expect(codeOf(() => resolveRange('x', undefined, rules))).toBe('invalid_time');
    expect(codeOf(() => resolveRange('2026-11-26T09:00:00Z', '2026-11-26T08:00:00Z', rules))).toBe('invalid_range');
    expect(codeOf(() => resolveRange('2026-11-24', '2026-11-26', rules))).toBe('range_too_long');
  });
  it('refuses times PostgreSQL cannot take (before 1970 or past 9999) and clamps a default from to 1970', () => {
    const wide = { ...rules, maxRangeS: 1e12 };
    expect(codeOf(() => resolveRange('0000-01-01', '0000-01-02', wide))).toBe('invalid_time');
    expect(codeOf(() => resolveRange(undefined, '0000-01-01T00:30:00Z', wide))).toBe('invalid_time');
    expect(codeOf(() => resolveRange('1969-12-31T23:59:59Z', '1970-01-02', wide))).toBe('invalid_time');
    expect(codeOf(() => resolveRange('0001-01-01T00:00:00+00:01', '2026-01-01', wide))).toBe('invalid_time');
    expect(resolveRange(undefined, '1970-01-01T00:30:00Z', wide)).toEqual({ from: new Date(0), to: new Date('1970-01-01T00:30:00Z') });
    expect(resolveRange('9999-12-31', '9999-12-31T23:59:59.999Z', wide).to.toISOString()).toBe('9999-12-31T23:59:59.999Z');
  });
  it('parses bucket widths', () => {
    expect(parseBucket('30s')).toBe(30);
    expect(parseBucket('5m')).toBe(300);
    expect(parseBucket('1d')).toBe(86_400);
    expect(codeOf(() => parseBucket('0m'))).toBe('invalid_bucket');
    expect(codeOf(() => parseBucket('1w'))).toBe('invalid_bucket');
  });
});

describe('pagination', () => {
  const raw = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString('base64url');
  it('round-trips cursors and refuses forged ones', () => {
    expect(decodeCursor(encodeCursor(LISTINGS.alarmsActive, [5, 'V-1', 'X']), LISTINGS.alarmsActive)).toEqual([5, 'V-1', 'X']);
    expect(codeOf(() => decodeCursor('bm9wZQ', LISTINGS.telemetryBuckets))).toBe('invalid_cursor');
    expect(codeOf(() => decodeCursor(encodeCursor(LISTINGS.fleetStatus, ['x']), { tag: 'fs', kinds: ['bigint'] }))).toBe('invalid_cursor');
  });
  it('round-trips a cursor of every listing, each carrying its tag', () => {
    const samples: Record<string, string | number> = { string: 'V-1', time: Date.parse('2026-11-26T08:00:00Z'), bigint: 7, int: 2 };
    for (const [name, listing] of Object.entries(LISTINGS)) {
      const key = listing.kinds.map((kind) => samples[kind]!);
      const cursor = encodeCursor(listing, key);
      expect(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))[0], name).toBe(listing.tag);
      expect(decodeCursor(cursor, listing), name).toEqual(key);
    }
    expect(new Set(Object.values(LISTINGS).map((l) => l.tag)).size).toBe(Object.keys(LISTINGS).length);
  });
  it("refuses another listing's cursor, even of the same shape, and untagged cursors from before tags", () => {
    const now = Date.parse('2026-11-26T08:00:00Z');
    // Events and raw telemetry share [ts, seq]: an events cursor must not page telemetry, nor the other way round.
    expect(codeOf(() => decodeCursor(encodeCursor(LISTINGS.vehicleEvents, [now, 1]), LISTINGS.telemetryRaw))).toBe('invalid_cursor');
    expect(codeOf(() => decodeCursor(encodeCursor(LISTINGS.telemetryRaw, [now, 1]), LISTINGS.vehicleEvents))).toBe('invalid_cursor');
    expect(codeOf(() => decodeCursor(encodeCursor(LISTINGS.fleetStatus, ['V-1']), LISTINGS.vehicles))).toBe('invalid_cursor');
    expect(codeOf(() => decodeCursor(encodeCursor(LISTINGS.fleetHealth, ['V-1']), LISTINGS.fleetStatus))).toBe('invalid_cursor');
    expect(codeOf(() => decodeCursor(encodeCursor(LISTINGS.telemetryBuckets, [now]), LISTINGS.fleetStatus))).toBe('invalid_cursor');
    // Untagged (as issued before): refused, also when the key's first part happens to equal a tag.
    expect(codeOf(() => decodeCursor(raw([now, 1]), LISTINGS.telemetryRaw))).toBe('invalid_cursor');
    expect(codeOf(() => decodeCursor(raw(['fs']), LISTINGS.fleetStatus))).toBe('invalid_cursor');
    expect(codeOf(() => decodeCursor(raw(['v', 'V-1', 'extra']), LISTINGS.vehicles))).toBe('invalid_cursor');
  });
  it('refuses cursor parts the SQL cannot take (times out of range, fractions, NUL) as invalid_cursor', () => {
    const now = Date.parse('2026-11-26T08:00:00Z');
    expect(decodeCursor(encodeCursor(LISTINGS.telemetryRaw, [now, 7]), LISTINGS.telemetryRaw)).toEqual([now, 7]);
    expect(decodeCursor(encodeCursor(LISTINGS.telemetryRaw, [Date.parse('0001-01-01T00:00:00Z'), 0]), LISTINGS.telemetryRaw)).toEqual([-62_135_596_800_000, 0]);
    for (const [key, listing] of [
      [[1e16, 1], LISTINGS.telemetryRaw], // past JavaScript's Date range: toISOString throws
      [[-8e15, 1], LISTINGS.telemetryRaw], // year −251503: PostgreSQL refuses it
      [[253_402_300_800_000, 1], LISTINGS.telemetryRaw], // year 10000: "+010000-…"
      [[now + 0.5, 1], LISTINGS.telemetryRaw],
      [[now, 1.5], LISTINGS.telemetryRaw], // ::bigint refuses 1.5
      [[now, 2 ** 53], LISTINGS.telemetryRaw],
      [[1.5, 'V-1', 'X'], LISTINGS.alarmsActive], // ::int refuses 1.5
      [[2 ** 31, 'V-1', 'X'], LISTINGS.alarmsActive],
      [['\u0000'], LISTINGS.fleetStatus], // text cannot hold NUL
      [[2, 'V-\u00001', 'X'], LISTINGS.alarmsActive],
    ] as const) {
      expect(codeOf(() => decodeCursor(encodeCursor(listing, key), listing)), JSON.stringify(key)).toBe('invalid_cursor');
    }
  });
  it('bounds the page size', () => {
    expect(resolveLimit(undefined, { defaultSize: 100, maxSize: 1000 })).toBe(100);
    expect(codeOf(() => resolveLimit(1001, { defaultSize: 100, maxSize: 1000 }))).toBe('page_too_large');
  });
  it('cuts limit + 1 rows into a page and a cursor of its listing', () => {
    const ints = { tag: 't', kinds: ['int'] } as const;
    expect(toPage([1, 2, 3], 2, ints, (n) => [n], (n) => n * 10)).toEqual({ items: [10, 20], next_cursor: encodeCursor(ints, [2]) });
    expect(decodeCursor(toPage([1, 2, 3], 2, ints, (n) => [n], (n) => n).next_cursor!, ints)).toEqual([2]);
    expect(toPage([1], 2, ints, (n) => [n], (n) => n)).toEqual({ items: [1], next_cursor: null });
  });
});

describe('request validation', () => {
  const Q = Type.Object(
    { limit: Type.Optional(Type.Integer({ minimum: 1 })), group_by: Type.Optional(Type.Enum(['a', 'b'], { [ERROR_CODE_KEYWORD]: 'invalid_group_by' })), on: Type.Optional(Type.Boolean()) },
    { additionalProperties: false },
  );
  it('converts query-string text to the declared types', () => {
    expect(validateAgainst(Q, { limit: '5', on: 'true' }, 'query')).toEqual({ limit: 5, on: true });
  });
  it('names the bad parameter with its specific or generic code', () => {
    expect(codeOf(() => validateAgainst(Q, { group_by: 'c' }, 'query'))).toBe('invalid_group_by');
    expect(codeOf(() => validateAgainst(Q, { limit: 'many' }, 'query'))).toBe('invalid_parameter');
    expect(codeOf(() => validateAgainst(Q, { tenant: 'other' }, 'query'))).toBe('invalid_parameter');
    expect(codeOf(() => validateAgainst(Q, { limit: 0 }, 'body'))).toBe('invalid_body');
  });
  it('names an unknown parameter, including __proto__ and constructor', () => {
    for (const name of ['tenant', '__proto__', 'constructor']) {
      const input = JSON.parse(`{${JSON.stringify(name)}:"x"}`) as Record<string, unknown>;
      expect(() => validateAgainst(Q, input, 'query'), name).toThrow(`unknown query parameter "${name}"`);
    }
  });
  it('refuses integers that are not plain decimal digits instead of truncating them', () => {
    for (const bad of ['1.5', '0x10', '1e2', '0b11', ' 5', '']) {
      expect(() => validateAgainst(Q, { limit: bad }, 'query'), bad).toThrow(/parameter limit must be an integer/);
    }
    expect(codeOf(() => validateAgainst(Q, { limit: ['5', '5'] }, 'query'))).toBe('invalid_parameter');
    expect(() => validateAgainst(Q, { limit: ['5', '5'] }, 'query')).toThrow('parameter limit may be given only once');
  });
  it('refuses a NUL character in any string, with the parameter\'s code', () => {
    const C = Type.Object({ type: Type.Optional(Type.String()), cursor: Type.Optional(Type.String({ [ERROR_CODE_KEYWORD]: 'invalid_cursor' })) }, { additionalProperties: false });
    expect(codeOf(() => validateAgainst(C, { type: 'a\u0000b' }, 'query'))).toBe('invalid_parameter');
    expect(() => validateAgainst(C, { type: 'a\u0000b' }, 'query')).toThrow('parameter type must not contain a NUL character (U+0000)');
    expect(codeOf(() => validateAgainst(C, { cursor: '\u0000' }, 'query'))).toBe('invalid_cursor');
    expect(codeOf(() => validateAgainst(Type.Object({ model: Type.String() }), { model: 'x\u0000' }, 'body'))).toBe('invalid_body');
  });
});

describe('error responses', () => {
  it('never exposes an unexpected error', () => {
    expect(toErrorResponse(new Error('connection refused at 10.0.0.5'))).toEqual({ status: 500, code: 'internal', message: 'internal error', unexpected: true });
    expect(toErrorResponse(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' })).status).toBe(503);
    expect(toErrorResponse(new ApiError('range_too_long', 'too long'))).toMatchObject({ status: 400, code: 'range_too_long' });
    expect(toErrorResponse(Object.assign(new Error('Body is not valid JSON'), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY' }))).toMatchObject({ status: 400, code: 'invalid_body' });
  });
  it('answers a database outage as 503 unavailable, without the driver text', () => {
    const outages = [
      ...['57P01', '57P02', '57P03', '53300', '08006', '08001', '08P01'].map((code) => Object.assign(new Error(`server said ${code} at 10.0.0.5`), { code })),
      Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new AggregateError([], 'connect failed'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      new Error('timeout exceeded when trying to connect'),
      new Error('Connection terminated unexpectedly'),
      new Error('Connection terminated due to connection timeout', { cause: new Error('Connection terminated unexpectedly') }),
      new Error('Cannot use a pool after calling end on the pool'),
    ];
    for (const error of outages) {
      expect(toErrorResponse(error), error.message).toEqual({ status: 503, code: 'unavailable', message: 'the database is unavailable; retry later', unexpected: true });
    }
    // Not an outage: a bad statement stays a 500, the statement timeout stays 503 timeout.
    expect(toErrorResponse(Object.assign(new Error('syntax error'), { code: '42601' })).status).toBe(500);
    expect(toErrorResponse(Object.assign(new Error('canceling statement'), { code: '57014' })).code).toBe('timeout');
  });
});
