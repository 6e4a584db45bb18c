import Type from 'typebox';
import { describe, expect, it } from 'vitest';
import { ApiError } from './api-error.js';
import { ERROR_CODE_KEYWORD } from './endpoint.js';
import { toErrorResponse } from './error.filter.js';
import { decodeCursor, encodeCursor, resolveLimit, toPage } from './pagination.js';
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
  it('parses bucket widths', () => {
    expect(parseBucket('30s')).toBe(30);
    expect(parseBucket('5m')).toBe(300);
    expect(parseBucket('1d')).toBe(86_400);
    expect(codeOf(() => parseBucket('0m'))).toBe('invalid_bucket');
    expect(codeOf(() => parseBucket('1w'))).toBe('invalid_bucket');
  });
});

describe('pagination', () => {
  it('round-trips cursors and refuses forged ones', () => {
    expect(decodeCursor(encodeCursor([5, 'V-1']), ['number', 'string'])).toEqual([5, 'V-1']);
    expect(codeOf(() => decodeCursor('bm9wZQ', ['number']))).toBe('invalid_cursor');
    expect(codeOf(() => decodeCursor(encodeCursor(['x']), ['number']))).toBe('invalid_cursor');
  });
  it('bounds the page size', () => {
    expect(resolveLimit(undefined, { defaultSize: 100, maxSize: 1000 })).toBe(100);
    expect(codeOf(() => resolveLimit(1001, { defaultSize: 100, maxSize: 1000 }))).toBe('page_too_large');
  });
  it('cuts limit + 1 rows into a page and a cursor', () => {
    expect(toPage([1, 2, 3], 2, (n) => [n], (n) => n * 10)).toEqual({ items: [10, 20], next_cursor: encodeCursor([2]) });
    expect(toPage([1], 2, (n) => [n], (n) => n)).toEqual({ items: [1], next_cursor: null });
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
});

describe('error responses', () => {
  it('never exposes an unexpected error', () => {
    expect(toErrorResponse(new Error('connection refused at 10.0.0.5'))).toEqual({ status: 500, code: 'internal', message: 'internal error', unexpected: true });
    expect(toErrorResponse(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' })).status).toBe(503);
    expect(toErrorResponse(new ApiError('range_too_long', 'too long'))).toMatchObject({ status: 400, code: 'range_too_long' });
    expect(toErrorResponse(Object.assign(new Error('Body is not valid JSON'), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY' }))).toMatchObject({ status: 400, code: 'invalid_body' });
  });
});
