import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

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

  it('refuses a demo API key too short to be a secret, without echoing it', () => {
    expect(() => loadConfig({ FLEET_DEMO_API_KEY: 'short-key' })).toThrow(/FLEET_DEMO_API_KEY: .*\(value hidden\)/);
  });
});
