import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ConfigError, describeListenError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment and freezes the result', () => {
    const config = loadConfig({});
    expect(config.MQTT_PORT).toBe(1883);
    expect(config.MQTT_WS_PORT).toBe(8083);
    expect(config.HTTP_PORT).toBe(3000);
    expect(config.SIM_VEHICLES).toBe(50);
    expect(config.SPECFLEET_DATA_DIR).toBe('./.data');
    expect(config.MQTT_MAX_PACKET_BYTES).toBe(262_144);
    expect(config.TS_MAX_FUTURE_S).toBe(300);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('converts numeric strings and keeps given values', () => {
    const config = loadConfig({ MQTT_PORT: '18830', SIM_VEHICLES: '0', DATABASE_URL: 'postgres://u@h:5432/db', LOG_LEVEL: 'debug' });
    expect(config.MQTT_PORT).toBe(18830);
    expect(config.SIM_VEHICLES).toBe(0);
    expect(config.DATABASE_URL).toBe('postgres://u@h:5432/db');
    expect(config.LOG_LEVEL).toBe('debug');
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ HTTP_PORT: '' }).HTTP_PORT).toBe(3000);
  });

  it('names every bad variable in one error', () => {
    let caught: unknown;
    try {
      loadConfig({ MQTT_PORT: '70000', HTTP_PORT: 'abc', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.find((p) => p.startsWith('MQTT_PORT:'))).toContain('65535');
    expect(problems.find((p) => p.startsWith('HTTP_PORT:'))).toContain('"abc"');
    expect(problems.find((p) => p.startsWith('LOG_LEVEL:'))).toContain('one of fatal, error');
    expect(problems.find((p) => p.startsWith('DATABASE_URL:'))).toContain('(value hidden)');
  });

  it('refuses a database or broker URL that does not parse, naming it without echoing the password', () => {
    for (const [name, value] of [
      ['DATABASE_URL', 'postgres://fleet:s3cr/et@db.example:5432/specfleet'],
      ['DATABASE_URL', 'postgres://fleet:s3cret@db.example:70000/specfleet'],
      ['INGEST_MQTT_URL', 'mqtt://worker:s3cret@broker example:1883'],
    ] as const) {
      let caught: unknown;
      try {
        loadConfig({ [name]: value });
      } catch (error) {
        caught = error;
      }
      expect(caught, value).toBeInstanceOf(ConfigError);
      const problems = (caught as ConfigError).problems;
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(new RegExp(`^${name}: must be a URL that parses`));
      expect((caught as Error).message).not.toContain('s3cr');
    }
    expect(loadConfig({ DATABASE_URL: 'postgres://fleet:s3cr%2Fet@db.example:5432/specfleet' }).DATABASE_URL).toContain('%2F');
  });

  it('names the variable of a port already in use, from the error a second listen really raises', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    const second = createServer();
    const error = await new Promise<Error>((resolve) => {
      second.once('error', resolve);
      second.listen(port, '127.0.0.1');
    });
    holder.close();
    const config = loadConfig({ MQTT_PORT: String(port) });
    expect(describeListenError(error, config)).toBe(`MQTT_PORT: 127.0.0.1:${port} is already in use (another broker or server?); set MQTT_PORT to a free port, or 0 for any free port`);
    expect(describeListenError(new Error('boom'), config)).toBeUndefined();
  });

  it('refuses the same key as the demo operator key and the admin key, without echoing it', () => {
    const key = 'sfk_demo_0123456789abcdefghijklmnop';
    expect(() => loadConfig({ FLEET_DEMO_API_KEY: key, FLEET_ADMIN_API_KEY: key })).toThrow(/FLEET_ADMIN_API_KEY: must differ from FLEET_DEMO_API_KEY/);
    expect(() => loadConfig({ FLEET_DEMO_API_KEY: key, FLEET_ADMIN_API_KEY: key })).not.toThrow(new RegExp(key));
    expect(loadConfig({ FLEET_DEMO_API_KEY: key, FLEET_ADMIN_API_KEY: `${key}-admin` }).FLEET_ADMIN_API_KEY).toBe(`${key}-admin`);
  });

  it('refuses a demo API key too short to be a secret, without echoing it', () => {
    expect(() => loadConfig({ FLEET_DEMO_API_KEY: 'short-key' })).toThrow(/FLEET_DEMO_API_KEY: .*\(value hidden\)/);
  });

  it('refuses a demo API key with characters a Bearer token cannot carry (it could never log in)', () => {
    expect(() => loadConfig({ FLEET_ADMIN_API_KEY: 'sfk_this-key-has:a-colon-in-it!' })).toThrow(/FLEET_ADMIN_API_KEY: .*\(value hidden\)/);
    expect(loadConfig({ FLEET_ADMIN_API_KEY: 'sfk_compose-demo-admin-key-change-me-0000000' }).FLEET_ADMIN_API_KEY).toBe('sfk_compose-demo-admin-key-change-me-0000000');
  });

  it('refuses integers that are not plain decimal digits instead of truncating them', () => {
    for (const bad of ['1883.5', '0x75b', '1e3']) expect(() => loadConfig({ MQTT_PORT: bad }), bad).toThrow(/MQTT_PORT: must be an integer written in decimal digits, got/);
    expect(loadConfig({ MQTT_PORT: ' 1884 ' }).MQTT_PORT).toBe(1884);
  });

  it('refuses keepalive bounds that cross', () => {
    expect(() => loadConfig({ MQTT_KEEPALIVE_MIN_S: '600', MQTT_KEEPALIVE_MAX_S: '60' })).toThrow(/MQTT_KEEPALIVE_MIN_S: must not exceed MQTT_KEEPALIVE_MAX_S \(60\), got 600/);
  });

  it('refuses telemetry retention not longer than the accepted sample age, naming both', () => {
    expect(() => loadConfig({ RETENTION_TELEMETRY_DAYS: '7' })).toThrow(/RETENTION_TELEMETRY_DAYS: must be greater than TS_MAX_AGE_DAYS \(35\), got 7/);
    expect(() => loadConfig({ RETENTION_TELEMETRY_DAYS: '30', TS_MAX_AGE_DAYS: '30' })).toThrow(/TS_MAX_AGE_DAYS \(30\)/);
    expect(loadConfig({ RETENTION_TELEMETRY_DAYS: '36' }).RETENTION_TELEMETRY_DAYS).toBe(36);
    expect(() => loadConfig({ RETENTION_EVENTS_DAYS: '30' })).toThrow(/RETENTION_EVENTS_DAYS: must be greater than TS_MAX_AGE_DAYS \(35\), got 30/);
    expect(loadConfig({ RETENTION_EVENTS_DAYS: '36' }).RETENTION_EVENTS_DAYS).toBe(36);
  });
});
