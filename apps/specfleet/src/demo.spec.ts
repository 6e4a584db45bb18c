import { describe, expect, it } from 'vitest';
import { fleetBrokerUrl, fleetMaxBatchBytes } from './demo.js';

describe('the in-process fleet of npm start', () => {
  it('connects where the broker listens: loopback for a wildcard, else MQTT_HOST (IPv6 in brackets)', () => {
    expect(fleetBrokerUrl('0.0.0.0', 1883)).toBe('mqtt://127.0.0.1:1883');
    expect(fleetBrokerUrl('::', 1883)).toBe('mqtt://127.0.0.1:1883');
    expect(fleetBrokerUrl('192.168.1.20', 1884)).toBe('mqtt://192.168.1.20:1884');
    expect(fleetBrokerUrl('::1', 1883)).toBe('mqtt://[::1]:1883');
  });

  it('keeps backlog messages under MQTT_MAX_PACKET_BYTES, at most 200 KiB', () => {
    expect(fleetMaxBatchBytes(256 * 1024)).toBe(200 * 1024);
    expect(fleetMaxBatchBytes(64 * 1024)).toBe(63 * 1024);
    expect(fleetMaxBatchBytes(1024)).toBe(512);
  });
});
