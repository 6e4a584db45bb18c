// SPEC §3 (QoS 1 on every topic) / §4.7: a vehicle's QoS 2 PUBLISH is refused before aedes stores it. aedes keeps
// every inbound QoS 2 packet until its PUBREL, unbounded across reconnects of a persistent session, so one vehicle
// could pin memory by never sending PUBREL. The refusal is logged and counted, there is no PUBREC, nothing is
// ingested, delivered or kept, and the connection closes as for the other refused publishes.
import type { Packet } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeTrackedClients, connectClient, endAll, sleep, startBroker, type TestBroker } from './harness.js';

interface IncomingStore {
  incomingGetPacket(client: { id: string }, packet: { messageId: number }): Promise<unknown>;
}

describe('broker: QoS 2 publishes from vehicles', () => {
  let broker: TestBroker;
  let secret: string;

  beforeEach(async () => {
    broker = await startBroker();
    secret = broker.credentials.addVehicle('V1');
  });
  afterEach(async () => {
    await closeTrackedClients();
    await broker.stop();
  });

  it('refuses a QoS 2 PUBLISH: no PUBREC, nothing ingested, delivered or stored, connection closed, counted once', async () => {
    const listener = await connectClient(broker, { clientId: 'ingest:w1', username: 'ingest', password: broker.credentials.addServiceAccount('ingest') });
    const seen: string[] = [];
    listener.on('message', (topic) => seen.push(topic));
    await listener.subscribeAsync('fleet/#', { qos: 1 });

    const client = await connectClient(broker, { clientId: 'V1', username: 'V1', password: secret, clean: false });
    const received: string[] = [];
    client.on('packetreceive', (packet: Packet) => received.push(packet.cmd));
    let messageId: number | undefined;
    client.on('packetsend', (packet: Packet) => {
      if (packet.cmd === 'publish') messageId = packet.messageId;
    });
    const closed = new Promise<boolean>((resolve) => client.once('close', () => resolve(true)));
    client.publish('fleet/V1/telemetry', '{"v":1,"ts":0,"seq":1}', { qos: 2 });
    expect(await Promise.race([closed, sleep(3_000).then(() => false)])).toBe(true);
    await sleep(100);

    expect(received).not.toContain('pubrec');
    expect(broker.ingest.attempts).toHaveLength(0);
    expect(seen).toEqual([]);
    expect(messageId).toBeDefined();
    const store = (broker.service as unknown as { aedes: { persistence: IncomingStore } }).aedes.persistence;
    await expect(store.incomingGetPacket({ id: 'V1' }, { messageId: messageId! })).rejects.toThrow();
    const refusals = Object.fromEntries((await broker.service.metrics.refusals.get()).values.map((v) => [String(v.labels.reason), v.value]));
    expect(refusals).toEqual({ qos_denied: 1 });
    expect(broker.logs.filter((l) => l.event === 'qos_denied')).toHaveLength(1);

    // QoS 1 on the same topic is still accepted.
    const again = await connectClient(broker, { clientId: 'V1', username: 'V1', password: secret, clean: false });
    await again.publishAsync('fleet/V1/telemetry', '{"v":1,"ts":0,"seq":2}', { qos: 1 });
    expect(broker.ingest.payloads('V1')).toEqual(['{"v":1,"ts":0,"seq":2}']);
    await endAll(client, again, listener);
  });
});
