// SPEC §3 / §4.6: who may connect, publish and subscribe to what. Every refusal answers as MQTT 3.1.1 says
// (CONNACK 3/4/5, SUBACK 0x80, a closed connection for a foreign PUBLISH), stores nothing, and is logged and counted
// without the secret.
import type mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeTrackedClients, connackCode, connectClient, digest, endAll, sleep, startBroker, subscribeGranted, type TestBroker, waitFor } from './harness.js';

describe('broker: access matrix', () => {
  let broker: TestBroker;
  let s1: string;
  let s2: string;
  let sIngest: string;

  beforeEach(async () => {
    broker = await startBroker();
    s1 = broker.credentials.addVehicle('V1');
    s2 = broker.credentials.addVehicle('V2');
    sIngest = broker.credentials.addServiceAccount('ingest');
  });
  afterEach(async () => {
    await closeTrackedClients();
    await broker.stop();
  });

  const v1 = (extra: mqtt.IClientOptions = {}) => connectClient(broker, { clientId: 'V1', username: 'V1', password: s1, ...extra });
  const v2 = () => connectClient(broker, { clientId: 'V2', username: 'V2', password: s2 });
  const svc = () => connectClient(broker, { clientId: 'ingest:w1', username: 'ingest', password: sIngest });
  const refusals = async (): Promise<Record<string, number>> => {
    const metric = await broker.service.metrics.refusals.get();
    return Object.fromEntries(metric.values.map((v) => [String(v.labels.reason), v.value]));
  };

  it('refuses a wrong secret and an unknown vehicle with CONNACK 4, and a client-id mismatch with 5', async () => {
    expect(await connackCode(broker, { clientId: 'V1', username: 'V1', password: s2 })).toBe(4);
    expect(await connackCode(broker, { clientId: 'V9', username: 'V9', password: s1 })).toBe(4);
    expect(await connackCode(broker, { clientId: 'V1', username: 'V1' })).toBe(4); // no password
    expect(await connackCode(broker, { clientId: 'V2', username: 'V1', password: s1 })).toBe(5);
    expect(await connackCode(broker, { clientId: '', username: 'V1', password: s1, clean: true })).toBe(5);
    expect(await connackCode(broker, { clientId: 'V1', username: 'V1', password: s1 })).toBe(0);
    expect(await refusals()).toMatchObject({ bad_credentials: 2, unknown_principal: 1, client_id_mismatch: 2 });
    expect(broker.logs.filter((l) => l.event === 'connect_refused')).toHaveLength(5);
    // the secrets never reach the logs
    const text = broker.rawLogs.join('');
    expect(text).not.toContain(s1);
    expect(text).not.toContain(s2);
  });

  it('refuses ids with / + #, control characters or over 64 characters before asking the registry', async () => {
    const before = broker.credentials.lookups;
    for (const id of ['V1/x', 'V+', '#', 'V\u0001', 'x'.repeat(65), '-V1']) {
      broker.credentials.addVehicle(id, s1); // even if the registry had them
      expect(await connackCode(broker, { clientId: id, username: id, password: s1 })).toBe(4);
    }
    expect(broker.credentials.lookups).toBe(before);
    expect(await refusals()).toMatchObject({ invalid_id: 6 });
  });

  it('refuses a Last Will on anything but the vehicle’s own status topic', async () => {
    const will = { topic: 'fleet/V2/status', payload: Buffer.from('{"v":1,"online":false}'), qos: 1 as const, retain: true };
    expect(await connackCode(broker, { clientId: 'V1', username: 'V1', password: s1, will })).toBe(5);
    expect(await refusals()).toMatchObject({ will_denied: 1 });
  });

  it('answers CONNACK 3 (server unavailable) when the registry fails, and recovers', async () => {
    const real = broker.credentials.findVehicle.bind(broker.credentials);
    broker.credentials.findVehicle = async () => {
      throw new Error('connection refused');
    };
    expect(await connackCode(broker, { clientId: 'V1', username: 'V1', password: s1 })).toBe(3);
    broker.credentials.findVehicle = real;
    expect(await connackCode(broker, { clientId: 'V1', username: 'V1', password: s1 })).toBe(0);
  });

  it('takes a rotated secret into account once the cache entry is invalidated', async () => {
    expect(await connackCode(broker, { clientId: 'V1', username: 'V1', password: s1 })).toBe(0);
    broker.credentials.vehicles.set('V1', { tenantId: 'tenant-a', secretDigest: digest('new-secret') });
    broker.service.invalidateCredentials('V1');
    expect(await connackCode(broker, { clientId: 'V1', username: 'V1', password: s1 })).toBe(4);
    expect(await connackCode(broker, { clientId: 'V1', username: 'V1', password: 'new-secret' })).toBe(0);
  });

  it('closes the connection on a publish to another vehicle’s topic, and nothing is stored or delivered', async () => {
    const listener = await svc();
    const seen: string[] = [];
    listener.on('message', (topic) => seen.push(topic));
    await listener.subscribeAsync('fleet/#', { qos: 1 });

    for (const [topic, qos] of [
      ['fleet/V2/telemetry', 1],
      ['fleet/V2/events', 0],
      ['fleet/V2/status', 1],
      ['fleet/V1/cmd', 1], // a vehicle does not send itself commands
      ['fleet/V1/other', 1],
      ['$SYS/broker/fake', 0],
      ['elsewhere', 1],
    ] as const) {
      const client = await v1();
      const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
      client.publish(topic, '{"v":1,"ts":0,"seq":1}', { qos });
      await closed;
      await endAll(client);
    }
    await sleep(100);
    expect(broker.ingest.attempts).toHaveLength(0);
    expect(seen).toEqual([]);
    expect(await refusals()).toMatchObject({ publish_denied: 7 });
    await endAll(listener);
  });

  it('answers SUBACK 0x80 to foreign, wildcard and $SYS subscriptions of a vehicle and keeps it connected', async () => {
    const client = await v1();
    const granted = await subscribeGranted(client, { 'fleet/V2/cmd': 1, '#': 1, '$SYS/#': 0, 'fleet/+/cmd': 1, 'fleet/V1/telemetry': 1, 'fleet/V1/cmd': 1 });
    expect(granted).toEqual({
      'fleet/V2/cmd': 128,
      '#': 128,
      '$SYS/#': 128,
      'fleet/+/cmd': 128,
      'fleet/V1/telemetry': 128,
      'fleet/V1/cmd': 1,
    });
    expect(client.connected).toBe(true);
    expect(await refusals()).toMatchObject({ subscribe_denied: 5 });

    // and it really does not read as another vehicle: V2's commands and telemetry never reach V1
    const got: string[] = [];
    client.on('message', (topic) => got.push(topic));
    const other = await v2();
    await other.publishAsync('fleet/V2/telemetry', '{}', { qos: 1 });
    await broker.service.publishCommand('V2', Buffer.from('{}'));
    await broker.service.publishCommand('V1', Buffer.from('{}'));
    await waitFor(() => got.length === 1, 5_000, 'own command');
    await sleep(100);
    expect(got).toEqual(['fleet/V1/cmd']);
    await endAll(client, other);
  });

  it('lets a service account subscribe under fleet/ but refuses $share (aedes has no shared subscriptions), # and $SYS', async () => {
    const client = await svc();
    const granted = await subscribeGranted(client, {
      'fleet/+/telemetry': 1,
      'fleet/#': 1,
      '$share/ingest/fleet/+/telemetry': 1,
      '#': 1,
      '$SYS/#': 0,
      fleet: 1,
    });
    expect(granted).toEqual({
      'fleet/+/telemetry': 1,
      'fleet/#': 1,
      '$share/ingest/fleet/+/telemetry': 128,
      '#': 128,
      '$SYS/#': 128,
      fleet: 128,
    });
    await endAll(client);
  });

  it('refuses a service account whose client id is not its own (no takeover of a vehicle session)', async () => {
    expect(await connackCode(broker, { clientId: 'V1', username: 'ingest', password: sIngest })).toBe(5);
    expect(await connackCode(broker, { clientId: 'ingest:w2', username: 'ingest', password: sIngest })).toBe(0);
  });
});
