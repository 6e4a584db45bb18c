// SPEC §4.1 in distributed mode, the transport alone: a held PUBACK belongs to the delivery that received the
// message, not to its message id. A message waits for room in a full pipeline when the worker's connection drops; the
// broker redelivers it, with the same message id, on the new session. The first delivery's PUBACK must then never be
// sent, and the redelivered copy's only after its own commit (it was once sent at admission, before any commit, so a
// crash right then lost an acknowledged message). Real broker (aedes, ephemeral port) and real MQTT.js clients; the
// pipeline is a stand-in whose admission and commit the test releases by hand (the timing is the subject).
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { INGEST_PATTERN, MqttIngestServer } from '../../../apps/ingestion/src/mqtt/mqtt-ingest.server.js';
import { eventually, quietLogger, within } from './helpers.js';

interface Step {
  resolve(): void;
  readonly promise: Promise<void>;
}
function step(): Step {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { resolve, promise };
}

describe('MQTT ingest worker: PUBACK per delivery', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await within(c(), 5_000, 'cleanup').catch(() => undefined);
    cleanups.length = 0;
  });

  it('never acknowledges a redelivered message before its own commit, nor the dropped delivery at all', { timeout: 20_000 }, async () => {
    const broker = await Aedes.createBroker();
    const acked: number[] = [];
    broker.on('ack', (packet, client) => {
      if (client?.id === 'ingest:w1' && packet && 'messageId' in packet && typeof packet.messageId === 'number') acked.push(packet.messageId);
    });
    const sockets = new Set<Socket>();
    const listener: NetServer = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      broker.handle(socket);
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    const url = `mqtt://127.0.0.1:${(listener.address() as { port: number }).port}`;
    cleanups.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => broker.close(() => r()));
      await new Promise<void>((r) => listener.close(() => r()));
    });

    const deliveries: Array<{ admitted: Step; committed: Step }> = [];
    const server = new MqttIngestServer({ url, clientId: 'ingest:w1', logger: quietLogger, reconnectPeriodMs: 100, filters: ['fleet/+/telemetry'] });
    server.addHandler(
      INGEST_PATTERN,
      async () => {
        const d = { admitted: step(), committed: step() };
        deliveries.push(d);
        return { admitted: d.admitted.promise, committed: d.committed.promise };
      },
      true,
    );
    await within(new Promise<void>((r) => server.listen(() => r())), 5_000, 'worker subscribed');
    cleanups.push(() => server.close());
    const worker = server.unwrap<mqtt.MqttClient>();
    const sent: number[] = [];
    worker.on('packetsend', (packet) => {
      if (packet.cmd === 'puback' && packet.messageId !== undefined) sent.push(packet.messageId);
    });

    const pub = await mqtt.connectAsync(url, { clientId: 'pub-1', protocolVersion: 4 });
    cleanups.push(() => pub.endAsync(true));
    await pub.publishAsync('fleet/V1/telemetry', '{"v":1,"ts":1,"seq":1}', { qos: 1 });
    await eventually(() => deliveries.length === 1, 5_000, 'first delivery');

    // The pipeline is full (admission pending) when the worker's connection drops; the broker redelivers on the new one.
    worker.stream.destroy();
    await eventually(() => deliveries.length === 2, 5_000, 'redelivery on the new session');
    expect(worker.connected).toBe(true);

    // Room again: the dropped delivery is admitted, then the redelivered copy. Nothing is committed yet.
    deliveries[0]!.admitted.resolve();
    deliveries[1]!.admitted.resolve();
    await new Promise((r) => setTimeout(r, 300));
    expect(sent).toEqual([]);
    expect(acked).toEqual([]);

    // The dropped delivery commits (it was stored): still nothing is sent, its connection is gone.
    deliveries[0]!.committed.resolve();
    await new Promise((r) => setTimeout(r, 200));
    expect(sent).toEqual([]);

    // The redelivered copy commits: now, and only now, its PUBACK goes out, once.
    deliveries[1]!.committed.resolve();
    await eventually(() => acked.length === 1, 5_000, 'PUBACK after the commit');
    await new Promise((r) => setTimeout(r, 200));
    expect(sent).toHaveLength(1);
    expect(acked).toHaveLength(1);
  });
});
