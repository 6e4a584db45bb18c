// Hostile bytes never crash the broker: truncated packets, lying remaining lengths, invalid UTF-8 topics, garbage
// instead of CONNECT, reserved packet types. Each such connection is closed, nothing from it is stored, and a
// well-behaved vehicle keeps publishing (and getting PUBACKs) throughout.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeTrackedClients, connectClient, sleep, startBroker, type TestBroker } from './harness.js';
import { connectPacket, publishPacket, rawConnect, rawLogin, remainingLength } from './raw-mqtt.js';

describe('broker: malformed packets', () => {
  let broker: TestBroker;
  let secret: string;

  beforeEach(async () => {
    broker = await startBroker({ connectTimeoutMs: 500 });
    secret = broker.credentials.addVehicle('V1');
    broker.credentials.addVehicle('V2', secret);
  });
  afterEach(async () => {
    await closeTrackedClients();
    await broker.stop();
  });

  const topicBytes = (topic: Buffer): Buffer => Buffer.concat([Buffer.from([topic.length >> 8, topic.length & 0xff]), topic]);

  /** Each case: bytes sent after a successful CONNECT (or instead of it, when `raw`). */
  const cases: Array<{ name: string; raw?: boolean; bytes: () => Buffer; end?: boolean }> = [
    { name: 'truncated PUBLISH, then FIN', bytes: () => publishPacket('fleet/V1/telemetry', '{"seq":1}', 1).subarray(0, 12), end: true },
    {
      name: 'remaining length shorter than the topic it announces',
      bytes: () => Buffer.concat([Buffer.from([0x32]), remainingLength(4), Buffer.from([0x00, 0xff, 0x66, 0x6c])]),
    },
    {
      name: 'remaining length longer than the data (then the next packet’s bytes)',
      bytes: () => Buffer.concat([Buffer.from([0x32, 60]), topicBytes(Buffer.from('fleet/V1/telemetry')), Buffer.from([0, 1]), publishPacket('fleet/V1/telemetry', 'x', 1, 2)]),
      end: true,
    },
    { name: 'invalid UTF-8 in the topic', bytes: () => publishPacket(Buffer.from([...Buffer.from('fleet/V1/'), 0xff, 0xfe, 0xc3]), '{"seq":1}', 1) },
    { name: 'invalid UTF-8 in the vehicle id level', bytes: () => publishPacket(Buffer.from([...Buffer.from('fleet/'), 0xc0, 0xaf, ...Buffer.from('/telemetry')]), '{}', 1) },
    { name: 'NUL in the topic', bytes: () => publishPacket('fleet/V1/telemetry\u0000', '{}', 1) },
    { name: 'remaining length of five bytes', bytes: () => Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]) },
    { name: 'reserved packet type 15', bytes: () => Buffer.from([0xf0, 0x00]) },
    { name: 'reserved packet type 0', bytes: () => Buffer.from([0x00, 0x00]) },
    { name: 'a second CONNECT', bytes: () => connectPacket('V1', 'V1', secret) },
    { name: 'SUBSCRIBE with no topics', bytes: () => Buffer.from([0x82, 0x02, 0x00, 0x01]) },
    { name: 'topic with 200 levels', bytes: () => publishPacket(`fleet/V1/telemetry${'/x'.repeat(200)}`, '{}', 1) },
    { name: 'garbage instead of CONNECT', raw: true, bytes: () => Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n') },
    { name: 'CONNECT with a wrong protocol name', raw: true, bytes: () => Buffer.from([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x58, 0x58, 0x04, 0x02, 0x00, 0x1e, 0x00, 0x00]) },
    { name: 'CONNECT whose client id runs past the packet', raw: true, bytes: () => Buffer.from([0x10, 0x0e, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x1e, 0x00, 0x40, 0x41, 0x42]) },
  ];

  it('closes each hostile connection, stores nothing from it, and never stops serving the good vehicle', async () => {
    const good = await connectClient(broker, { clientId: 'V2', username: 'V2', password: secret });
    let acked = 0;
    let running = true;
    const publisher = (async () => {
      for (let seq = 0; running; seq++) {
        await good.publishAsync('fleet/V2/telemetry', JSON.stringify({ seq }), { qos: 1 });
        acked++;
        await sleep(5);
      }
    })();

    for (const c of cases) {
      const conn = c.raw ? await rawConnect(broker.port) : await rawLogin(broker.port, 'V1', secret);
      if ('returnCode' in conn) expect(conn.returnCode, c.name).toBe(0);
      conn.socket.write(c.bytes());
      if (c.end) conn.socket.end();
      await Promise.race([conn.closed, sleep(3_000)]);
      expect(conn.isClosed(), `${c.name}: connection closed`).toBe(true);
      const before = acked;
      await sleep(30);
      expect(acked, `${c.name}: the good vehicle still gets PUBACKs`).toBeGreaterThan(before);
    }
    running = false;
    await publisher;

    expect(broker.ingest.committed.every((m) => m.vehicleId === 'V2')).toBe(true);
    expect(broker.ingest.committed).toHaveLength(acked);
    expect(good.connected).toBe(true);
  });
});
