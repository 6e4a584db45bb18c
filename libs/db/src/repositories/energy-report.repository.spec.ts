import { describe, expect, it } from 'vitest';
import { planEnergyRange } from './energy-report.repository.js';

const d = (s: string) => new Date(s);

describe('planEnergyRange', () => {
  it('reads whole hours from the rollup and partial ends from raw rows', () => {
    expect(planEnergyRange(d('2026-11-20T10:30:00Z'), d('2026-11-20T13:15:00Z'))).toEqual({
      hours: { from: d('2026-11-20T11:00:00Z'), to: d('2026-11-20T13:00:00Z') },
      raw: [
        { from: d('2026-11-20T10:30:00Z'), to: d('2026-11-20T11:00:00Z') },
        { from: d('2026-11-20T13:00:00Z'), to: d('2026-11-20T13:15:00Z') },
      ],
    });
  });
  it('reads no raw rows for a range on hour boundaries', () => {
    expect(planEnergyRange(d('2026-11-01T00:00:00Z'), d('2026-12-01T00:00:00Z'))).toEqual({
      hours: { from: d('2026-11-01T00:00:00Z'), to: d('2026-12-01T00:00:00Z') },
      raw: [],
    });
  });
  it('reads only raw rows inside a single hour', () => {
    expect(planEnergyRange(d('2026-11-20T10:10:00Z'), d('2026-11-20T10:50:00Z'))).toEqual({ raw: [{ from: d('2026-11-20T10:10:00Z'), to: d('2026-11-20T10:50:00Z') }] });
    expect(planEnergyRange(d('2026-11-20T10:10:00Z'), d('2026-11-20T11:00:00Z'))).toEqual({ raw: [{ from: d('2026-11-20T10:10:00Z'), to: d('2026-11-20T11:00:00Z') }] });
  });
});
