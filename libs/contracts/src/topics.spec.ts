import { describe, expect, it } from 'vitest';
import {
  COMMAND_ACK_FILTER,
  EVENTS_FILTER,
  SERVICE_FILTERS,
  STATUS_FILTER,
  TELEMETRY_FILTER,
  TOPIC_CHANNELS,
  VEHICLE_ID_PATTERN,
  buildTopic,
  commandAckTopic,
  commandTopic,
  eventsTopic,
  isValidVehicleId,
  parseTopic,
  sharedSubscription,
  statusTopic,
  telemetryTopic,
} from './topics.js';

describe('vehicle id', () => {
  it.each(['SZ-SAN-0001', 'LSVAU2180N2183294', 'a', '0', 'veh_1.2-x', 'A'.repeat(64)])('accepts %s', (id) => {
    expect(isValidVehicleId(id)).toBe(true);
    expect(new RegExp(VEHICLE_ID_PATTERN).test(id)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['65 characters', 'A'.repeat(65)],
    ['leading dash', '-abc'],
    ['leading dot', '.abc'],
    ['leading underscore', '_abc'],
    ['slash', 'a/b'],
    ['plus wildcard', '+'],
    ['hash wildcard', '#'],
    ['embedded plus', 'a+b'],
    ['space', 'a b'],
    ['NUL', 'a\u0000b'],
    ['newline', 'ab\n'],
    ['DEL', 'a\u007f'],
    ['non-ASCII', 'Ünit1'],
    ['dollar', '$SYS'],
  ])('refuses %s', (_name, id) => {
    expect(isValidVehicleId(id)).toBe(false);
    expect(new RegExp(VEHICLE_ID_PATTERN).test(id)).toBe(false);
  });

  it('refuses non-strings', () => {
    expect(isValidVehicleId(42)).toBe(false);
    expect(isValidVehicleId(undefined)).toBe(false);
  });
});

describe('topic builders', () => {
  it('build the SPEC §3 topics', () => {
    expect(telemetryTopic('SZ-SAN-0001')).toBe('fleet/SZ-SAN-0001/telemetry');
    expect(eventsTopic('SZ-SAN-0001')).toBe('fleet/SZ-SAN-0001/events');
    expect(statusTopic('SZ-SAN-0001')).toBe('fleet/SZ-SAN-0001/status');
    expect(commandTopic('SZ-SAN-0001')).toBe('fleet/SZ-SAN-0001/cmd');
    expect(commandAckTopic('SZ-SAN-0001')).toBe('fleet/SZ-SAN-0001/cmd/ack');
  });

  it.each(['a/b', '+', '#', '', 'A'.repeat(65), 'x\u0001'])('throw on an invalid id %j instead of building a foreign topic', (id) => {
    expect(() => telemetryTopic(id)).toThrow(RangeError);
    expect(() => commandTopic(id)).toThrow(RangeError);
  });
});

describe('parseTopic', () => {
  it.each(TOPIC_CHANNELS)('round-trips the %s channel', (channel) => {
    const id = 'SZ-SAN-0001';
    expect(parseTopic(buildTopic(id, channel))).toEqual({ vehicleId: id, channel });
  });

  it('round-trips the builders and a 64-character id', () => {
    const id = `V${'x'.repeat(63)}`;
    expect(parseTopic(telemetryTopic(id))).toEqual({ vehicleId: id, channel: 'telemetry' });
    expect(parseTopic(eventsTopic('a'))).toEqual({ vehicleId: 'a', channel: 'events' });
    expect(parseTopic(statusTopic('a.b_c-d'))).toEqual({ vehicleId: 'a.b_c-d', channel: 'status' });
    expect(parseTopic(commandAckTopic('v1'))).toEqual({ vehicleId: 'v1', channel: 'cmd/ack' });
    expect(parseTopic(commandTopic('v1'))).toEqual({ vehicleId: 'v1', channel: 'cmd' });
  });

  it.each([
    ['extra level', 'fleet/a/b/telemetry'],
    ['plus as id', 'fleet/+/telemetry'],
    ['hash as id', 'fleet/#/telemetry'],
    ['hash as channel', 'fleet/a/#'],
    ['plus as channel', 'fleet/a/+'],
    ['65-character id', `fleet/${'A'.repeat(65)}/telemetry`],
    ['control character in id', 'fleet/a\u0000b/telemetry'],
    ['newline in id', 'fleet/ab\n/telemetry'],
    ['empty id', 'fleet//telemetry'],
    ['empty channel', 'fleet/a/'],
    ['no channel', 'fleet/a'],
    ['trailing slash', 'fleet/a/telemetry/'],
    ['leading slash', '/fleet/a/telemetry'],
    ['double slash in channel', 'fleet/a/cmd//ack'],
    ['unknown channel', 'fleet/a/telemetryx'],
    ['channel case', 'fleet/a/Telemetry'],
    ['other root', 'fleets/a/telemetry'],
    ['root case', 'Fleet/a/telemetry'],
    ['root only', 'fleet/'],
    ['empty topic', ''],
    ['sys topic', '$SYS/broker/uptime'],
    ['shared subscription', '$share/ingest/fleet/a/telemetry'],
    ['cmd/ack with extra level', 'fleet/a/cmd/ack/x'],
  ])('refuses %s', (_name, topic) => {
    expect(parseTopic(topic)).toBeUndefined();
  });

  it('stays fast on a huge hostile topic (bounded scan, no regex)', () => {
    const topic = `fleet/${'a'.repeat(1_000_000)}/telemetry`;
    expect(parseTopic(topic)).toBeUndefined();
  });
});

describe('service subscriptions', () => {
  it('lists the ingestion filters', () => {
    expect(TELEMETRY_FILTER).toBe('fleet/+/telemetry');
    expect(EVENTS_FILTER).toBe('fleet/+/events');
    expect(STATUS_FILTER).toBe('fleet/+/status');
    expect(COMMAND_ACK_FILTER).toBe('fleet/+/cmd/ack');
    expect(SERVICE_FILTERS).toEqual(['fleet/+/telemetry', 'fleet/+/events', 'fleet/+/status', 'fleet/+/cmd/ack']);
  });

  it('builds shared subscriptions', () => {
    expect(sharedSubscription('ingest', TELEMETRY_FILTER)).toBe('$share/ingest/fleet/+/telemetry');
    expect(sharedSubscription('ingest', COMMAND_ACK_FILTER)).toBe('$share/ingest/fleet/+/cmd/ack');
  });

  it.each(['', 'a/b', '+', '#', 'a\u0000'])('refuses the group %j', (group) => {
    expect(() => sharedSubscription(group, TELEMETRY_FILTER)).toThrow(RangeError);
  });

  it('refuses an empty or already shared filter', () => {
    expect(() => sharedSubscription('ingest', '')).toThrow(RangeError);
    expect(() => sharedSubscription('ingest', '$share/x/fleet/+/telemetry')).toThrow(RangeError);
  });
});
