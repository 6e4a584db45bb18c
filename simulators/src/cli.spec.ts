import { describe, expect, it } from 'vitest';
import { USAGE, parseCli } from './cli.js';
import { parseDuration } from './duration.js';

describe('sim CLI', () => {
  it('parses fleet, time, broker and fault options', () => {
    const plan = parseCli(['--vehicles', '20', '--mix', 'sweeper=10,bus=5', '--seed', '9', '--speed', '60', '--duration', '10m', '--url', 'mqtt://h:1884', '--duplicate', '0.01', '--clock-skew', '0.1', '--alarm-rate', '0.5']);
    expect(plan.fleet.vehicles).toHaveLength(20);
    expect(plan.fleet.speed).toBe(60);
    expect(plan.fleet.durationMs).toBe(600_000);
    expect(plan.fleet.url).toBe('mqtt://h:1884');
    expect(plan.fleet.faults).toMatchObject({ duplicate: 0.01, clockSkew: 0.1 });
    expect(plan.fleet.alarms).toMatchObject({ alarmsPerHour: 0.5 });
  });

  it('parses backfill and provisioning', () => {
    const plan = parseCli(['--backfill', '30d', '--window', '64', '--provision', 'http://api:3000', '--admin-key', 'k']);
    expect(plan.backfillMs).toBe(30 * 86_400_000);
    expect(plan.window).toBe(64);
    expect(plan.provision).toEqual({ apiUrl: 'http://api:3000', adminKey: 'k' });
  });

  it('refuses bad values with a message naming the option', () => {
    expect(() => parseCli(['--duplicate', '2'])).toThrow(/--duplicate/);
    expect(() => parseCli(['--speed', '0'])).toThrow(/--speed/);
    expect(() => parseCli(['--provision', 'http://x'])).toThrow(/--admin-key/);
    expect(() => parseCli(['--url', 'http://x'])).toThrow(/--url/);
    expect(() => parseCli(['--mix', 'tractor=1'])).toThrow(/unknown class/);
    expect(() => parseCli(['--bogus'])).toThrow();
  });

  it('documents every option in the usage text', () => {
    for (const option of ['--vehicles', '--mix', '--seed', '--speed', '--backfill', '--url', '--credentials', '--provision', '--duration', '--wrong-credentials']) {
      expect(USAGE).toContain(option);
    }
  });

  it('reads durations', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1d12h')).toBe(36 * 3_600_000);
    expect(parseDuration('45')).toBe(45_000);
    expect(() => parseDuration('ten minutes')).toThrow();
  });
});
