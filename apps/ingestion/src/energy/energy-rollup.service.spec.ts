import { describe, expect, it } from 'vitest';
import { CLOSE_AFTER_MS, rollupTarget } from './energy-rollup.service.js';

describe('rollupTarget', () => {
  const at = (iso: string) => Date.parse(iso);
  it('closes an hour CLOSE_AFTER_MS after it ends, not before', () => {
    expect(CLOSE_AFTER_MS).toBe(5 * 60_000);
    expect(rollupTarget(at('2026-11-26T14:04:59.999Z'))).toEqual(new Date('2026-11-26T13:00:00Z'));
    expect(rollupTarget(at('2026-11-26T14:05:00Z'))).toEqual(new Date('2026-11-26T14:00:00Z'));
    expect(rollupTarget(at('2026-11-26T14:59:00Z'))).toEqual(new Date('2026-11-26T14:00:00Z'));
  });
  it('is always the start of a UTC hour, also across midnight', () => {
    expect(rollupTarget(at('2026-11-27T00:03:00Z'))).toEqual(new Date('2026-11-26T23:00:00Z'));
    expect(rollupTarget(at('2026-11-27T00:05:00Z'))).toEqual(new Date('2026-11-27T00:00:00Z'));
    for (const ms of [0, 1, 59_999, 3_599_999, 3_600_000 + CLOSE_AFTER_MS]) expect(rollupTarget(at('2026-11-26T10:00:00Z') + ms).getTime() % 3_600_000).toBe(0);
  });
});
