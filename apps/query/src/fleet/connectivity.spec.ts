import { describe, expect, it } from 'vitest';
import { connectivityOf } from './connectivity.js';

const NOW = Date.parse('2026-11-26T08:00:00Z');
const at = (secondsAgo: number) => new Date(NOW - secondsAgo * 1000);

describe('connectivityOf', () => {
  it('is online when connected and a sample came within 3 × the report interval', () => {
    expect(connectivityOf({ connected: true, lastReceivedAt: at(30), reportIntervalS: 10 }, NOW, 900)).toBe('online');
  });
  it('is stale when connected but silent longer than that', () => {
    expect(connectivityOf({ connected: true, lastReceivedAt: at(31), reportIntervalS: 10 }, NOW, 900)).toBe('stale');
    expect(connectivityOf({ connected: true, lastReceivedAt: null, reportIntervalS: 10 }, NOW, 900)).toBe('stale');
  });
  it('is offline when disconnected, or silent beyond the offline threshold even if connected', () => {
    expect(connectivityOf({ connected: false, lastReceivedAt: at(1), reportIntervalS: 10 }, NOW, 900)).toBe('offline');
    expect(connectivityOf({ connected: true, lastReceivedAt: at(901), reportIntervalS: 10 }, NOW, 900)).toBe('offline');
    expect(connectivityOf({ connected: true, lastReceivedAt: at(900), reportIntervalS: 10 }, NOW, 900)).toBe('stale');
  });
});
