// inlineParameters writes node-pg's parameter text into the SQL as escaped literals: what the merged round trips of an
// ingestion transaction send instead of bound parameters.
import { describe, expect, it } from 'vitest';
import { inlineParameters } from './ingest-transaction.repository.js';

describe('inlineParameters', () => {
  it('replaces each $n with its value as a quoted literal, the same parameter as often as it is used', () => {
    expect(inlineParameters('SELECT $1::text, $2::int8, $1::text', ['a', 42])).toBe("SELECT 'a'::text, '42'::int8, 'a'::text");
  });

  it('escapes quotes and backslashes the way pg.escapeLiteral does', () => {
    expect(inlineParameters('SELECT $1', ["it's"])).toBe("SELECT 'it''s'");
    // A backslash makes it an E'' string with the backslash doubled (escapeLiteral's leading space included).
    expect(inlineParameters('SELECT $1', [String.raw`a\b`])).toBe(String.raw`SELECT  E'a\\b'`);
  });

  it('writes null and undefined as NULL, arrays as array literals, booleans and dates as node-pg sends them', () => {
    expect(inlineParameters('SELECT $1, $2', [null, undefined])).toBe('SELECT NULL, NULL');
    expect(inlineParameters('SELECT $1::text[]', [['a', 'b,c', null]])).toBe(`SELECT '{"a","b,c",NULL}'::text[]`);
    expect(inlineParameters('SELECT $1::text[]', [['b"c']])).toBe(String.raw`SELECT  E'{"b\\"c"}'::text[]`);
    expect(inlineParameters('SELECT $1::bool', [true])).toBe("SELECT 'true'::bool");
    const at = new Date('2026-11-26T10:00:00.123Z');
    const literal = inlineParameters('SELECT $1::timestamptz', [at]);
    // node-pg writes a Date in local time with its offset: the same instant whatever the time zone.
    const text = /^SELECT '(.+)'::timestamptz$/.exec(literal)?.[1];
    expect(new Date(text!.replace(' ', 'T')).getTime()).toBe(at.getTime());
  });

  it('leaves a $ inside a quoted string alone, and $10 is not $1 followed by 0', () => {
    const params = Array.from({ length: 10 }, (_, i) => `p${i + 1}`);
    expect(inlineParameters("SELECT '$1 ''$2''', $10, $1", params)).toBe("SELECT '$1 ''$2''', 'p10', 'p1'");
  });

  it('refuses a placeholder without a value and dollar-quoted SQL', () => {
    expect(() => inlineParameters('SELECT $2', ['only one'])).toThrow(/\$2 has no parameter/);
    expect(() => inlineParameters('SELECT $$x$$, $1', ['a'])).toThrow(/dollar-quoted/);
  });

  it('returns SQL without parameters unchanged', () => {
    expect(inlineParameters('SELECT 1')).toBe('SELECT 1');
  });
});
