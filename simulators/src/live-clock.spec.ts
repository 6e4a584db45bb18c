import { describe, expect, it } from 'vitest';
import { liveStartMs, simulatedNow } from './fleet.js';

const NOW = Date.parse('2026-11-27T12:00:00Z');
const HOUR = 3_600_000;

describe('the live fleet clock', () => {
  it('starts now at speed 1, and never reports from the future at any speed', () => {
    expect(liveStartMs(NOW, 1)).toBe(NOW);
    for (const speed of [2, 10, 60, 1000]) {
      const start = liveStartMs(NOW, speed);
      // An hour of wall time and a minute of it: simulated time is at most the wall clock (ingestion refuses > 5 min ahead).
      for (const elapsed of [1_000, 60_000, HOUR, 10 * HOUR]) {
        expect(simulatedNow(start, speed, elapsed, NOW + elapsed), `speed ${speed}, ${elapsed} ms in`).toBeLessThanOrEqual(NOW + elapsed);
      }
    }
  });

  it('replays (speed − 1) hours, at most a day, at full speed, then runs with the clock', () => {
    const start = liveStartMs(NOW, 10);
    expect(start).toBe(NOW - 9 * HOUR);
    expect(simulatedNow(start, 10, 30 * 60_000, NOW + 30 * 60_000)).toBe(start + 10 * 30 * 60_000); // still catching up
    expect(simulatedNow(start, 10, 2 * HOUR, NOW + 2 * HOUR)).toBe(NOW + 2 * HOUR); // caught up: the clock
    expect(liveStartMs(NOW, 1000)).toBe(NOW - 24 * HOUR); // inside the 35 days ingestion accepts
  });

  it('with a duration, starts early enough to reach the clock as the run ends', () => {
    const start = liveStartMs(NOW, 60, 10 * 60_000);
    expect(simulatedNow(start, 60, 10 * 60_000, NOW + 10 * 60_000)).toBe(NOW + 10 * 60_000);
    expect(simulatedNow(start, 60, 5 * 60_000, NOW + 5 * 60_000)).toBeLessThan(NOW + 5 * 60_000);
  });
});
