import { describe, expect, it } from 'vitest';
import { brokerOptionsFromConfig, DEFAULT_BROKER_OPTIONS, resolveBrokerOptions } from './broker.options.js';

describe('resolveBrokerOptions', () => {
  it('fills in the defaults and freezes the result', () => {
    const options = resolveBrokerOptions({ port: 0 });
    expect(options).toEqual({ ...DEFAULT_BROKER_OPTIONS, port: 0 });
    expect(Object.isFrozen(options)).toBe(true);
  });

  it('refuses values that would quietly disable a limit', () => {
    expect(() => resolveBrokerOptions({ maxPacketSize: Number.NaN })).toThrow(/maxPacketSize/);
    expect(() => resolveBrokerOptions({ maxConnections: 0 })).toThrow(/maxConnections/);
    expect(() => resolveBrokerOptions({ publishRate: -1 })).toThrow(/publishRate/);
    expect(() => resolveBrokerOptions({ keepaliveMinS: 10, keepaliveMaxS: 5 })).toThrow(/keepaliveMinS/);
  });

  it('needs a directory for the level persistence and knows no other kind', () => {
    expect(DEFAULT_BROKER_OPTIONS.persistence).toBe('memory');
    expect(() => resolveBrokerOptions({ persistence: 'level' })).toThrow(/persistenceDir/);
    expect(() => resolveBrokerOptions({ persistence: 'disk' as never })).toThrow(/persistence must be one of/);
    expect(resolveBrokerOptions({ persistence: 'level', persistenceDir: '/tmp/x' }).persistenceDir).toBe('/tmp/x');
  });
});

describe('brokerOptionsFromConfig: MQTT_PERSISTENCE', () => {
  const env = {
    MQTT_HOST: '0.0.0.0', MQTT_PORT: 1883, MQTT_WS_PORT: 8083, MQTT_MAX_PACKET_BYTES: 262_144, MQTT_CONNECT_TIMEOUT_MS: 10_000,
    MQTT_MAX_CONNECTIONS: 100, MQTT_PUBLISH_RATE: 200, MQTT_PUBLISH_BURST: 2_000, MQTT_KEEPALIVE_MIN_S: 5, MQTT_KEEPALIVE_MAX_S: 1_200,
    MQTT_MAX_TOPIC_LEVELS: 8, MQTT_DRAIN_TIMEOUT_MS: 30_000, SPECFLEET_DATA_DIR: '/data',
  };

  it('auto is memory embedded and level (under SPECFLEET_DATA_DIR) for the standalone broker', () => {
    expect(brokerOptionsFromConfig({ ...env, MQTT_PERSISTENCE: 'auto' })).toMatchObject({ persistence: 'memory', persistenceDir: null });
    expect(brokerOptionsFromConfig({ ...env, MQTT_PERSISTENCE: 'auto' }, 'distributed')).toMatchObject({ persistence: 'level', persistenceDir: '/data/broker' });
  });

  it('an explicit choice wins, and MQTT_PERSISTENCE_DIR sets the directory', () => {
    expect(brokerOptionsFromConfig({ ...env, MQTT_PERSISTENCE: 'memory' }, 'distributed')).toMatchObject({ persistence: 'memory' });
    expect(brokerOptionsFromConfig({ ...env, MQTT_PERSISTENCE: 'level', MQTT_PERSISTENCE_DIR: '/var/lib/broker' })).toMatchObject({ persistence: 'level', persistenceDir: '/var/lib/broker' });
  });
});
