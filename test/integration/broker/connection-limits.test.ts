// SPEC §4.7: maximum connections, keepalive bounds, and the packet size limit at its default place in the stream
// (TCP and WebSocket, where one MQTT packet may span many small frames).
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { closeTrackedClients, connackCode, connectClient, rawClient, sleep, startBroker, type TestBroker, waitFor } from './harness.js';
import { connectPacket, publishPacket, rawConnect, remainingLength } from './raw-mqtt.js';

describe('broker: connection limits', () => {
  let broker: TestBroker | undefined;
  afterEach(async () => {
    await closeTrackedClients();
    await broker?.stop();
  });

  it('closes sockets beyond maxConnections at once, and accepts again when one leaves', async () => {
    broker = await startBroker({ maxConnections: 2 });
    const a = await rawConnect(broker.port);
    const b = await rawConnect(broker.port);
    await sleep(50);
    const c = await rawConnect(broker.port);
    await Promise.race([c.closed, sleep(2_000)]);
    expect(c.isClosed()).toBe(true);
    expect(a.isClosed() || b.isClosed()).toBe(false);
    a.socket.destroy();
    await sleep(100);
    const d = await rawConnect(broker.port);
    await sleep(100);
    expect(d.isClosed()).toBe(false);
    const refused = (await broker.service.metrics.refusals.get()).values.find((v) => v.labels.reason === 'max_connections');
    expect(refused?.value).toBe(1);
    b.socket.destroy();
    d.socket.destroy();
  });

  it('counts sockets on the WebSocket port before their upgrade against maxConnections, once', async () => {
    broker = await startBroker({ maxConnections: 2 });
    const secret = broker.credentials.addVehicle('V1');
    // Two sockets that never send a request: before, the cap saw only upgraded connections.
    const a = await rawConnect(broker.wsPort!);
    const b = await rawConnect(broker.wsPort!);
    await sleep(50);
    const refused = await connackCode({ url: `ws://127.0.0.1:${broker.wsPort}/mqtt` }, { clientId: 'V1', username: 'V1', password: secret });
    expect(refused).not.toBe(0);
    expect(a.isClosed() || b.isClosed()).toBe(false);
    expect(broker.logs.filter((l) => l.event === 'max_connections')).toEqual([expect.objectContaining({ transport: 'ws', open: 2 })]);
    // An upgrading socket holds one slot, not two: with one silent socket gone, the WS client fits beside the other...
    a.socket.destroy();
    await sleep(100);
    const ws = await connectClient({ url: `ws://127.0.0.1:${broker.wsPort}/mqtt` }, { clientId: 'V1', username: 'V1', password: secret });
    expect(ws.connected).toBe(true);
    // ...and the budget is shared with the TCP listener.
    const c = await rawConnect(broker.port);
    await Promise.race([c.closed, sleep(2_000)]);
    expect(c.isClosed()).toBe(true);
    expect(ws.connected).toBe(true);
    const count = (await broker.service.metrics.refusals.get()).values.find((v) => v.labels.reason === 'max_connections');
    expect(count?.value).toBe(2);
    b.socket.destroy();
  });

  it('enforces keepaliveMaxS on a client that asked for no keepalive at all', async () => {
    broker = await startBroker({ keepaliveMinS: 1, keepaliveMaxS: 1 });
    const secret = broker.credentials.addVehicle('V1');
    const conn = await rawConnect(broker.port);
    conn.socket.write(connectPacket('V1', 'V1', secret, 0)); // keepalive 0 = "never time me out"
    await Promise.race([conn.closed, sleep(5_000)]);
    expect(conn.isClosed()).toBe(true); // after 1.5 × 1 s of silence
    await waitFor(() => broker!.connectivity.events.some((e) => e.kind === 'disconnected'), 2_000, 'disconnect');
    expect(broker.connectivity.events).toContainEqual({ kind: 'disconnected', vehicleId: 'V1', reason: 'timeout' });
    expect(broker.logs.find((l) => l.event === 'client_connected')).toMatchObject({ requestedKeepaliveS: 0, keepaliveS: 1 });
  });

  it('closes a connection whose packet exceeds maxPacketSize, over TCP, and accepts one just under it', async () => {
    broker = await startBroker({ maxPacketSize: 1024 });
    const secret = broker.credentials.addVehicle('V1');
    const ok = await connectClient(broker, { clientId: 'V1', username: 'V1', password: secret });
    await ok.publishAsync('fleet/V1/telemetry', Buffer.alloc(900, 0x61), { qos: 1 });
    expect(broker.ingest.committed).toHaveLength(1);
    await ok.endAsync();

    const big = rawClient(broker.url, { clientId: 'V1', username: 'V1', password: secret });
    await new Promise((resolve) => big.once('connect', resolve));
    const closed = new Promise<void>((resolve) => big.once('close', () => resolve()));
    big.publish('fleet/V1/telemetry', Buffer.alloc(2048, 0x61), { qos: 1 });
    await closed;
    expect(broker.ingest.committed).toHaveLength(1);
    const refused = (await broker.service.metrics.refusals.get()).values.find((v) => v.labels.reason === 'packet_too_large');
    expect(refused?.value).toBe(1);
  });

  it('with oversizePublish dead_letter, hands a vehicle\'s oversize PUBLISH to the sink as a stand-in, acknowledges it, keeps the connection and delivers it to nobody', async () => {
    broker = await startBroker({ maxPacketSize: 1024, oversizePublish: 'dead_letter' });
    const secret = broker.credentials.addVehicle('V1');
    const svcSecret = broker.credentials.addServiceAccount('ingest');
    const listener = await connectClient(broker, { clientId: 'ingest:w1', username: 'ingest', password: svcSecret });
    const seen: string[] = [];
    listener.on('message', (_topic, payload) => seen.push(payload.toString()));
    await listener.subscribeAsync('fleet/+/telemetry', { qos: 1 });
    const vehicle = await connectClient(broker, { clientId: 'V1', username: 'V1', password: secret });
    const payload = Buffer.concat([Buffer.from('[{"v":1,"ts":"2026-11-27T00:00:00Z","seq":1'), Buffer.alloc(200_000, 0x20), Buffer.from('}]')]);
    // 1 byte of type, 3 of remaining length, 2 + 18 of topic, 2 of packet id, the payload.
    const packetBytes = 1 + 3 + 2 + 'fleet/V1/telemetry'.length + 2 + payload.length;
    await vehicle.publishAsync('fleet/V1/telemetry', payload, { qos: 1 }); // resolves on its PUBACK
    await vehicle.publishAsync('fleet/V1/telemetry', '{"v":1}', { qos: 1 });
    expect(vehicle.connected, 'the connection stays open').toBe(true);
    expect(broker.ingest.committed.map((m) => m.oversizeBytes)).toEqual([packetBytes, undefined]);
    expect(broker.ingest.committed[0]!.payload).toEqual(payload.subarray(0, 4096));
    await waitFor(() => seen.length > 0, 3_000, 'the second message delivered');
    await sleep(100);
    expect(seen, 'the oversize message is delivered to nobody').toEqual(['{"v":1}']);

    // A service account's oversize command has no sink to go to: refused like any packet over the limit.
    const closed = new Promise<void>((resolve) => listener.once('close', () => resolve()));
    listener.publish('fleet/V1/cmd', Buffer.alloc(2048, 0x61), { qos: 1 });
    await closed;
    const refused = (await broker.service.metrics.refusals.get()).values.find((v) => v.labels.reason === 'packet_too_large');
    expect(refused?.value).toBe(1);
  });

  it('with oversizePublish dead_letter, keeps a vehicle connected through a slow oversize upload, and reads nothing past before CONNECT', async () => {
    broker = await startBroker({ maxPacketSize: 1024, oversizePublish: 'dead_letter', keepaliveMinS: 1 });
    const secret = broker.credentials.addVehicle('V1');
    const vehicle = await rawConnect(broker.port);
    vehicle.socket.write(connectPacket('V1', 'V1', secret, 1)); // keepalive 1 s: aedes closes after 1.5 s without a packet
    await waitFor(() => vehicle.received().length >= 4, 10_000, 'CONNACK');
    const packet = publishPacket('fleet/V1/telemetry', Buffer.alloc(30_000, 0x41), 1, 5);
    // 30 kB in 1 kB pieces every 100 ms: 3 s inside one packet, which aedes sees only as the stand-in at its end.
    for (let i = 0; i < packet.length && !vehicle.isClosed(); i += 1_000) {
      vehicle.socket.write(packet.subarray(i, i + 1_000));
      await sleep(100);
    }
    await waitFor(() => vehicle.received().length >= 8 || vehicle.isClosed(), 10_000, 'PUBACK');
    expect(vehicle.isClosed(), 'still connected after the upload').toBe(false);
    expect([...vehicle.received().subarray(4, 8)]).toEqual([0x40, 0x02, 0x00, 0x05]);
    expect(broker.ingest.committed.map((m) => m.oversizeBytes)).toEqual([packet.length]);
    vehicle.socket.destroy();

    // Before CONNECT there is no vehicle to dead-letter for: closed at the header, nothing read past (aedes' own
    // connect timeout, 10 s, would close it only later).
    const early = await rawConnect(broker.port);
    early.socket.write(Buffer.concat([Buffer.from([0x32]), remainingLength(5_000)]));
    await Promise.race([early.closed, sleep(8_000)]);
    expect(early.isClosed()).toBe(true);

    // A CONNECT and an oversize PUBLISH in one write (MQTT 3.1.1 lets a client publish before its CONNACK): read past
    // while the CONNECT is authenticated, then dead-lettered.
    const eager = await rawConnect(broker.port);
    eager.socket.write(Buffer.concat([connectPacket('V1', 'V1', secret, 30), publishPacket('fleet/V1/telemetry', Buffer.alloc(5_000, 0x42), 1, 9)]));
    await waitFor(() => eager.received().length >= 8 || eager.isClosed(), 10_000, 'CONNACK and PUBACK');
    expect([...eager.received().subarray(4, 8)]).toEqual([0x40, 0x02, 0x00, 0x09]);
    expect(broker.ingest.committed.map((m) => m.oversizeBytes)).toEqual([packet.length, 5_000 + 25]);
    eager.socket.destroy();
  });

  it('closes a WebSocket connection whose PUBLISH announces too much, even when sent in small frames', async () => {
    broker = await startBroker({ maxPacketSize: 4096 });
    const secret = broker.credentials.addVehicle('V1');
    const ws = new WebSocket(`ws://127.0.0.1:${broker.wsPort}/mqtt`, 'mqtt');
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    ws.on('error', () => undefined);
    await new Promise((resolve) => ws.once('open', resolve));
    const received: Buffer[] = [];
    ws.on('message', (data) => received.push(data as Buffer)); // aedes may write the CONNACK in several frames
    ws.send(connectPacket('V1', 'V1', secret));
    await waitFor(() => Buffer.concat(received).length >= 4, 3_000, 'CONNACK');
    expect([...Buffer.concat(received)]).toEqual([0x20, 0x02, 0x00, 0x00]);
    const topic = Buffer.from([0, 18, ...Buffer.from('fleet/V1/telemetry')]);
    ws.send(Buffer.concat([Buffer.from([0x32]), remainingLength(10 * 1024 * 1024)]));
    ws.send(topic);
    for (let i = 0; i < 20 && ws.readyState === WebSocket.OPEN; i++) {
      ws.send(Buffer.alloc(1024));
      await sleep(5);
    }
    await Promise.race([closed, sleep(3_000)]);
    expect(ws.readyState).toBe(WebSocket.CLOSED);
    expect(broker.ingest.attempts).toHaveLength(0);
  });
});
