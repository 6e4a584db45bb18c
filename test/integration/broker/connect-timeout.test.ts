// SPEC §4.7: a socket that does not complete CONNECT within connectTimeoutMs is closed (and counted), whether it sent
// nothing or half a CONNECT; a client that completes CONNECT in time is unaffected.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeTrackedClients, connectClient, sleep, startBroker, type TestBroker } from './harness.js';
import { connectPacket, rawConnect } from './raw-mqtt.js';

describe('broker: connect timeout', () => {
  let broker: TestBroker;
  let secret: string;

  beforeEach(async () => {
    broker = await startBroker({ connectTimeoutMs: 300 });
    secret = broker.credentials.addVehicle('V1');
  });
  afterEach(async () => {
    await closeTrackedClients();
    await broker.stop();
  });

  it('closes silent sockets and half-sent CONNECTs, and counts them', async () => {
    const silent = await rawConnect(broker.port);
    const half = await rawConnect(broker.port);
    const packet = connectPacket('V1', 'V1', secret);
    half.socket.write(packet.subarray(0, Math.floor(packet.length / 2)));
    const started = Date.now();
    await Promise.race([Promise.all([silent.closed, half.closed]), sleep(5_000)]);
    expect(silent.isClosed()).toBe(true);
    expect(half.isClosed()).toBe(true);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(half.received().length).toBe(0); // no CONNACK for a CONNECT that never arrived
    const refusals = (await broker.service.metrics.refusals.get()).values.find((v) => v.labels.reason === 'connect_timeout');
    expect(refusals?.value).toBe(2);
    expect(broker.logs.filter((l) => l.event === 'connect_timeout')).toHaveLength(2);
  });

  it('closes a socket on the WebSocket port that never sends its upgrade request, and counts it', async () => {
    const silent = await rawConnect(broker.wsPort!);
    const started = Date.now();
    await Promise.race([silent.closed, sleep(5_000)]);
    expect(silent.isClosed()).toBe(true);
    expect(Date.now() - started).toBeLessThan(3_000);
    const refusals = (await broker.service.metrics.refusals.get()).values.find((v) => v.labels.reason === 'connect_timeout');
    expect(refusals?.value).toBe(1);
    expect(broker.logs.filter((l) => l.event === 'connect_timeout')).toEqual([expect.objectContaining({ transport: 'ws' })]);
  });

  it('leaves a WebSocket client that connected in time alone', async () => {
    const client = await connectClient({ url: `ws://127.0.0.1:${broker.wsPort}/mqtt` }, { clientId: 'V1', username: 'V1', password: secret });
    await sleep(600);
    expect(client.connected).toBe(true);
    await client.publishAsync('fleet/V1/telemetry', '{}', { qos: 1 });
    expect(broker.ingest.committed).toHaveLength(1);
  });

  it('leaves a client that connected in time alone', async () => {
    const client = await connectClient(broker, { clientId: 'V1', username: 'V1', password: secret });
    await sleep(600);
    expect(client.connected).toBe(true);
    await client.publishAsync('fleet/V1/telemetry', '{}', { qos: 1 });
    expect(broker.ingest.committed).toHaveLength(1);
  });
});
