import { describe, expect, it } from 'vitest';
import { planEnergyRange } from './energy-report.repository.js';

const d = (s: string) => new Date(s);

describe('planEnergyRange', () => {
  it('reads whole hours from the rollup and partial ends from raw rows', () => {
    expect(planEnergyRange(d('2026-11-20T10:30:00Z'), d('2026-11-20T13:15:00Z'))).toEqual({
      hours: [{ from: d('2026-11-20T11:00:00Z'), to: d('2026-11-20T13:00:00Z') }],
      raw: [
        { from: d('2026-11-20T10:30:00Z'), to: d('2026-11-20T11:00:00Z') },
        { from: d('2026-11-20T13:00:00Z'), to: d('2026-11-20T13:15:00Z') },
      ],
    });
  });
  it('reads whole UTC days from the daily rollup, the hours of partial days from the hourly one', () => {
    expect(planEnergyRange(d('2026-10-27T15:23:16.410Z'), d('2026-11-26T15:23:16.410Z'))).toEqual({
      days: { from: d('2026-10-28T00:00:00Z'), to: d('2026-11-26T00:00:00Z') },
      hours: [
        { from: d('2026-10-27T16:00:00Z'), to: d('2026-10-28T00:00:00Z') },
        { from: d('2026-11-26T00:00:00Z'), to: d('2026-11-26T15:00:00Z') },
      ],
      raw: [
        { from: d('2026-10-27T15:23:16.410Z'), to: d('2026-10-27T16:00:00Z') },
        { from: d('2026-11-26T15:00:00Z'), to: d('2026-11-26T15:23:16.410Z') },
      ],
    });
  });
  it('reads neither hours nor raw rows for a range on day boundaries', () => {
    expect(planEnergyRange(d('2026-11-01T00:00:00Z'), d('2026-12-01T00:00:00Z'))).toEqual({
      days: { from: d('2026-11-01T00:00:00Z'), to: d('2026-12-01T00:00:00Z') },
      hours: [],
      raw: [],
    });
  });
  it('reads hours only where a day is partial', () => {
    expect(planEnergyRange(d('2026-11-01T05:00:00Z'), d('2026-11-03T00:00:00Z'))).toEqual({
      days: { from: d('2026-11-02T00:00:00Z'), to: d('2026-11-03T00:00:00Z') },
      hours: [{ from: d('2026-11-01T05:00:00Z'), to: d('2026-11-02T00:00:00Z') }],
      raw: [],
    });
    // Whole hours that reach from one day into the next, without a whole day between: hours only.
    expect(planEnergyRange(d('2026-11-01T20:00:00Z'), d('2026-11-02T04:00:00Z'))).toEqual({
      hours: [{ from: d('2026-11-01T20:00:00Z'), to: d('2026-11-02T04:00:00Z') }],
      raw: [],
    });
  });
  it('reads only raw rows inside a single hour', () => {
    expect(planEnergyRange(d('2026-11-20T10:10:00Z'), d('2026-11-20T10:50:00Z'))).toEqual({ hours: [], raw: [{ from: d('2026-11-20T10:10:00Z'), to: d('2026-11-20T10:50:00Z') }] });
    expect(planEnergyRange(d('2026-11-20T10:10:00Z'), d('2026-11-20T11:00:00Z'))).toEqual({ hours: [], raw: [{ from: d('2026-11-20T10:10:00Z'), to: d('2026-11-20T11:00:00Z') }] });
  });
});
