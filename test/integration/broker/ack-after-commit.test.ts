// SPEC §4.1 at the broker: a QoS 1 PUBLISH is PUBACKed only once the IngestSink committed it; a sink failure leaves
// it unacknowledged and drops the connection, and the stock client resends it after reconnecting.
// SPEC §3 (QoS 1 on every topic) / §4.7: a vehicle's QoS 2 PUBLISH is refused before aedes stores it. aedes keeps
// every inbound QoS 2 packet until its PUBREL, unbounded across reconnects of a persistent session, so one vehicle
// could pin memory by never sending PUBREL. The refusal is logged and counted, there is no PUBREC, nothing is
// ingested, delivered or kept, and the connection closes as for the other refused publishes.
import type { Packet } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeTrackedClients, connectClient, endAll, rawClient, sleep, startBroker, type TestBroker, waitFor } from './harness.js';

interface IncomingStore {
  incomingGetPacket(client: { id: string }, packet: { messageId: number }): Promise<unknown>;
}

describe('broker: acknowledgement only after commit', () => {
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

  it('does not PUBACK while the commit is pending, and PUBACKs each message as its own commit resolves', async () => {
    const client = await connectClient(broker, { clientId: 'V1', username: 'V1', password: secret });
    broker.ingest.mode = 'hold';
    const acked: number[] = [];
    for (const seq of [1, 2, 3]) {
      client.publish('fleet/V1/telemetry', JSON.stringify({ seq }), { qos: 1 }, (err) => {
        if (!err) acked.push(seq);
      });
    }
    await waitFor(() => broker.ingest.held.length === 3, 5_000, 'three pending commits');
    await sleep(300);
    expect(acked).toEqual([]);
    expect(broker.ingest.committed).toHaveLength(0);

    broker.ingest.held[1]!.resolve();
    await waitFor(() => acked.length === 1, 5_000, 'first PUBACK');
    expect(acked).toEqual([2]);
    await sleep(100);
    expect(acked).toEqual([2]);

    broker.ingest.held[0]!.resolve();
    broker.ingest.held[2]!.resolve();
    await waitFor(() => acked.length === 3, 5_000, 'all PUBACKs');
    expect(acked.sort()).toEqual([1, 2, 3]);
    expect(broker.ingest.payloads()).toEqual(['{"seq":2}', '{"seq":1}', '{"seq":3}']);
    await endAll(client);
  });

  it('holds the PUBACK of a retained status until its commit too (only a Last Will skips the sink)', async () => {
    const client = await connectClient(broker, { clientId: 'V1', username: 'V1', password: secret });
    broker.ingest.mode = 'hold';
    let acked = false;
    client.publish('fleet/V1/status', '{"v":1,"online":true,"fw":"1.4.2"}', { qos: 1, retain: true }, (err) => {
      if (!err) acked = true;
    });
    await waitFor(() => broker.ingest.held.length === 1, 5_000, 'pending status commit');
    await sleep(300);
    expect(acked).toBe(false);
    expect(broker.connectivity.events.filter((e) => e.kind === 'status')).toEqual([]);
    broker.ingest.held[0]!.resolve();
    await waitFor(() => acked, 5_000, 'status PUBACK');
    expect(broker.ingest.committed.map((m) => [m.channel, m.payload.toString()])).toEqual([['status', '{"v":1,"online":true,"fw":"1.4.2"}']]);
    await endAll(client);
  });

  it('never PUBACKs a message whose commit failed; the client resends it after reconnecting and it is stored', async () => {
    broker.ingest.mode = 'reject';
    const client = rawClient(broker.url, { clientId: 'V1', username: 'V1', password: secret, protocolVersion: 4, clean: false, reconnectPeriod: 100 });
    await new Promise((resolve) => client.once('connect', resolve));
    let closes = 0;
    client.on('close', () => {
      closes++;
      broker.ingest.mode = 'commit'; // the database is back by the time the client returns
    });

    const ack = new Promise<Error | undefined>((resolve) => client.publish('fleet/V1/telemetry', '{"seq":42}', { qos: 1 }, (err) => resolve(err)));
    expect(await ack).toBeFalsy();
    expect(closes).toBeGreaterThanOrEqual(1);
    expect(broker.ingest.attempts.map((m) => m.payload.toString())).toEqual(['{"seq":42}', '{"seq":42}']);
    expect(broker.ingest.payloads()).toEqual(['{"seq":42}']);
    const failed = (await broker.service.metrics.refusals.get()).values.find((v) => v.labels.reason === 'ingest_failed');
    expect(failed?.value).toBe(1);
    await endAll(client);
  });

  it('treats a commit that never answers as failed after ingestTimeoutMs (no PUBACK, connection closed)', async () => {
    await broker.stop();
    broker = await startBroker({ ingestTimeoutMs: 300 });
    secret = broker.credentials.addVehicle('V1');
    broker.ingest.mode = 'hold';
    const client = await connectClient(broker, { clientId: 'V1', username: 'V1', password: secret });
    let acked = false;
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish('fleet/V1/telemetry', '{"seq":1}', { qos: 1 }, (err) => {
      if (!err) acked = true;
    });
    await closed;
    expect(acked).toBe(false);
    await endAll(client);
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
