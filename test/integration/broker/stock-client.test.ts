// A stock MQTT 3.1.1 client (MQTT.js, over TCP and WebSocket) does what vehicles need: QoS 0/1 publishes, retained
// status, a Last Will on abrupt loss, and a persistent session that keeps QoS 1 commands while it is away.
import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeTrackedClients, connectClient, endAll, rawClient, startBroker, type TestBroker, track, waitFor } from './harness.js';

describe('broker: a stock MQTT 3.1.1 client', () => {
  let broker: TestBroker;
  let secret: string;
  let ingestSecret: string;

  beforeEach(async () => {
    broker = await startBroker();
    secret = broker.credentials.addVehicle('SZ-SAN-0001');
    ingestSecret = broker.credentials.addServiceAccount('ingest');
  });
  afterEach(async () => {
    await closeTrackedClients();
    await broker.stop();
  });

  const vehicle = (extra: mqtt.IClientOptions = {}) => connectClient(broker, { clientId: 'SZ-SAN-0001', username: 'SZ-SAN-0001', password: secret, ...extra });
  const service = (extra: mqtt.IClientOptions = {}) => connectClient(broker, { clientId: 'ingest:1', username: 'ingest', password: ingestSecret, ...extra });

  it('accepts QoS 0 and QoS 1 telemetry and events, PUBACKs QoS 1, and hands each to the ingest sink', async () => {
    const client = await vehicle();
    await client.publishAsync('fleet/SZ-SAN-0001/telemetry', '{"seq":1}', { qos: 0 });
    // for QoS 1, MQTT.js settles publishAsync only when the PUBACK arrives
    await client.publishAsync('fleet/SZ-SAN-0001/telemetry', '{"seq":2}', { qos: 1 });
    await client.publishAsync('fleet/SZ-SAN-0001/events', '{"seq":3}', { qos: 1 });
    await client.publishAsync('fleet/SZ-SAN-0001/cmd/ack', '{"id":"c1"}', { qos: 1 });
    await waitFor(() => broker.ingest.committed.length === 4, 5_000, '4 commits');
    expect(broker.ingest.committed.map((m) => [m.channel, m.payload.toString()])).toEqual([
      ['telemetry', '{"seq":1}'],
      ['telemetry', '{"seq":2}'],
      ['events', '{"seq":3}'],
      ['cmd/ack', '{"id":"c1"}'],
    ]);
    expect(broker.ingest.committed.every((m) => m.vehicleId === 'SZ-SAN-0001')).toBe(true);
    await endAll(client);
  });

  it('keeps the retained status, commits it before its PUBACK, and reports connect / clean disconnect', async () => {
    const client = await vehicle();
    await client.publishAsync('fleet/SZ-SAN-0001/status', '{"v":1,"online":true,"fw":"1.4.2"}', { qos: 1, retain: true });
    await client.endAsync();
    await waitFor(() => broker.connectivity.events.some((e) => e.kind === 'disconnected'), 5_000, 'disconnect');

    const listener = await service();
    const received = new Promise<{ topic: string; payload: string; retain: boolean }>((resolve) =>
      listener.once('message', (topic, payload, packet) => resolve({ topic, payload: payload.toString(), retain: packet.retain })),
    );
    await listener.subscribeAsync('fleet/+/status', { qos: 1 });
    expect(await received).toEqual({ topic: 'fleet/SZ-SAN-0001/status', payload: '{"v":1,"online":true,"fw":"1.4.2"}', retain: true });
    expect(broker.connectivity.events).toEqual([
      { kind: 'connected', vehicleId: 'SZ-SAN-0001' },
      { kind: 'disconnected', vehicleId: 'SZ-SAN-0001', reason: 'clean' },
    ]);
    // The vehicle's own status is QoS 1 like telemetry: committed through the ingest sink before its PUBACK (only a
    // Last Will, which nobody acknowledges, goes to the connectivity sink).
    expect(broker.ingest.committed.map((m) => [m.channel, m.payload.toString()])).toEqual([['status', '{"v":1,"online":true,"fw":"1.4.2"}']]);
    await endAll(listener);
  });

  it('publishes the Last Will when the vehicle vanishes without DISCONNECT', async () => {
    const listener = await service();
    await listener.subscribeAsync('fleet/+/status', { qos: 1 });
    const will = new Promise<string>((resolve) => listener.on('message', (topic, payload) => topic === 'fleet/SZ-SAN-0001/status' && resolve(payload.toString())));

    const client = await vehicle({ will: { topic: 'fleet/SZ-SAN-0001/status', payload: Buffer.from('{"v":1,"online":false}'), qos: 1, retain: true } });
    client.stream.destroy(); // the network goes away: no DISCONNECT packet
    expect(await will).toBe('{"v":1,"online":false}');
    // the published hook runs after routing, so connectivity may hear of the will just after the subscriber
    await waitFor(() => broker.connectivity.events.length === 3, 5_000, 'disconnect and will status');
    expect(broker.connectivity.events).toContainEqual({ kind: 'disconnected', vehicleId: 'SZ-SAN-0001', reason: 'will' });
    expect(broker.connectivity.events).toContainEqual({ kind: 'status', vehicleId: 'SZ-SAN-0001', payload: '{"v":1,"online":false}' });
    await endAll(client, listener);
  });

  it('keeps QoS 1 commands for a persistent session and delivers them on reconnect', async () => {
    const first = await vehicle({ clean: false });
    await first.subscribeAsync('fleet/SZ-SAN-0001/cmd', { qos: 1 });
    await first.endAsync();

    const sender = await service();
    await sender.publishAsync('fleet/SZ-SAN-0001/cmd', '{"id":"c1","op":"lock"}', { qos: 1 });
    await sender.publishAsync('fleet/SZ-SAN-0001/cmd', '{"id":"c2","op":"unlock"}', { qos: 1 });
    await broker.service.publishCommand('SZ-SAN-0001', Buffer.from('{"id":"c3"}'));

    const received: string[] = [];
    const second = rawClient(broker.url, { clientId: 'SZ-SAN-0001', username: 'SZ-SAN-0001', password: secret, clean: false, reconnectPeriod: 0, protocolVersion: 4 });
    second.on('message', (_topic, payload) => received.push(payload.toString()));
    const connack = await new Promise<mqtt.IConnackPacket>((resolve) => second.once('connect', resolve));
    expect(connack.sessionPresent).toBe(true);
    await waitFor(() => received.length === 3, 5_000, 'queued commands');
    expect(received).toEqual(['{"id":"c1","op":"lock"}', '{"id":"c2","op":"unlock"}', '{"id":"c3"}']);
    await endAll(second, sender);
  });

  it('works over WebSocket too', async () => {
    const client = track(await mqtt.connectAsync(`ws://127.0.0.1:${broker.wsPort}/mqtt`, {
      clientId: 'SZ-SAN-0001',
      username: 'SZ-SAN-0001',
      password: secret,
      protocolVersion: 4,
      reconnectPeriod: 0,
    }));
    await client.publishAsync('fleet/SZ-SAN-0001/telemetry', '{"seq":9}', { qos: 1 });
    expect(broker.ingest.payloads('SZ-SAN-0001')).toEqual(['{"seq":9}']);
    await endAll(client);
  });
});
