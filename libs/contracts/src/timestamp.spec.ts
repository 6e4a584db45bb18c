import { describe, expect, it } from 'vitest';
import { parseTimestamp } from './timestamp.js';

describe('parseTimestamp', () => {
  it.each([
    ['2026-11-26T08:00:00.000Z', Date.UTC(2026, 10, 26, 8, 0, 0, 0)],
    ['2026-11-26T08:00:01Z', Date.UTC(2026, 10, 26, 8, 0, 1)],
    ['2026-11-26T16:00:00+08:00', Date.UTC(2026, 10, 26, 8, 0, 0)],
    ['2026-11-26T03:30:00-04:30', Date.UTC(2026, 10, 26, 8, 0, 0)],
    ['2026-11-26T08:00:00-00:00', Date.UTC(2026, 10, 26, 8, 0, 0)],
    ['2026-11-26t08:00:00.5z', Date.UTC(2026, 10, 26, 8, 0, 0, 500)],
    ['2026-11-26T08:00:00.12Z', Date.UTC(2026, 10, 26, 8, 0, 0, 120)],
    ['2026-11-26T08:00:00.123456789Z', Date.UTC(2026, 10, 26, 8, 0, 0, 123)],
    ['2024-02-29T23:59:59.999Z', Date.UTC(2024, 1, 29, 23, 59, 59, 999)],
    ['2000-02-29T00:00:00Z', Date.UTC(2000, 1, 29)],
    ['1970-01-01T00:00:00Z', 0],
    ['1969-12-31T23:59:59Z', -1000],
    ['0001-01-01T00:00:00Z', -62135596800000],
  ])('parses %s', (ts, expected) => {
    expect(parseTimestamp(ts)).toBe(expected);
  });

  it('agrees with Date.parse on a sweep of valid instants and offsets', () => {
    for (let ms = Date.UTC(1999, 0, 1); ms < Date.UTC(2101, 0, 1); ms += 86_400_000 * 37 + 3_601_001) {
      const iso = new Date(ms).toISOString();
      expect(parseTimestamp(iso)).toBe(ms);
      const shifted = new Date(ms + 8 * 3_600_000).toISOString().replace('Z', '+08:00');
      expect(parseTimestamp(shifted)).toBe(ms);
    }
  });

  it.each([0, 1, 1795680000000, Number.MAX_SAFE_INTEGER])('takes epoch ms %d as is', (ms) => {
    expect(parseTimestamp(ms)).toBe(ms);
  });

  it.each([
    ['no offset (local time)', '2026-11-26T08:00:00'],
    ['date only', '2026-11-26'],
    ['space separator', '2026-11-26 08:00:00Z'],
    ['offset without colon', '2026-11-26T08:00:00+0800'],
    ['hour offset only', '2026-11-26T08:00:00+08'],
    ['month 13', '2026-13-01T00:00:00Z'],
    ['month 0', '2026-00-01T00:00:00Z'],
    ['February 30', '2026-02-30T00:00:00Z'],
    ['February 29 of a common year', '2026-02-29T00:00:00Z'],
    ['February 29 of 1900', '1900-02-29T00:00:00Z'],
    ['April 31', '2026-04-31T00:00:00Z'],
    ['hour 24', '2026-11-26T24:00:00Z'],
    ['minute 60', '2026-11-26T08:60:00Z'],
    ['leap second', '2026-12-31T23:59:60Z'],
    ['offset hour 24', '2026-11-26T08:00:00+24:00'],
    ['empty fraction', '2026-11-26T08:00:00.Z'],
    ['ten fraction digits', '2026-11-26T08:00:00.1234567890Z'],
    ['trailing garbage', '2026-11-26T08:00:00Zx'],
    ['RFC 9557 zone suffix', '2026-11-26T08:00:00Z[Asia/Shanghai]'],
    ['epoch ms as string', '1795680000000'],
    ['RFC 2822', 'Thu, 26 Nov 2026 08:00:00 GMT'],
    ['empty', ''],
    ['full-width digits', '２026-11-26T08:00:00Z'],
  ])('refuses %s', (_name, ts) => {
    expect(parseTimestamp(ts)).toBeNaN();
  });

  it.each([
    ['negative epoch', -1],
    ['fractional epoch', 1795680000000.5],
    ['unsafe integer', 2 ** 60],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['null', null],
    ['boolean', true],
    ['object', {}],
    ['array', []],
  ])('refuses %s', (_name, ts) => {
    expect(parseTimestamp(ts)).toBeNaN();
  });
});
