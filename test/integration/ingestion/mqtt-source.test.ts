// The distributed-mode source (MqttIngestServer, a Nest custom transport) against a real broker (aedes on an
// ephemeral port) and a real database: the worker's PUBACK goes to the broker only after the commit, and a worker
// that dies before committing gets the messages again when it comes back with the same client id.
import { createServer, type Server as NetServer } from 'node:net';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDatabase, type Database } from '@fleet/db';
import { IngestController } from '../../../apps/ingestion/src/mqtt/ingest.controller.js';
import { MqttIngestServer } from '../../../apps/ingestion/src/mqtt/mqtt-ingest.server.js';
import { IngestionPipeline } from '../../../apps/ingestion/src/pipeline/ingestion-pipeline.js';
import { createTestDatabase, describeEachBackend, type TestDatabase } from '../../setup/database.js';
import { DatabaseOutageProxy, eventually, provisionVehicles, quietLogger, sample, testPipeline, within } from './helpers.js';

async function startWorker(url: string, clientId: string, pipeline: IngestionPipeline): Promise<{ app: INestMicroservice; server: MqttIngestServer }> {
  @Module({ controllers: [IngestController], providers: [{ provide: IngestionPipeline, useValue: pipeline }] })
  class WorkerModule {}
  const server = new MqttIngestServer({ url, clientId, logger: quietLogger, reconnectPeriodMs: 200 });
  const app = await NestFactory.createMicroservice(WorkerModule, { strategy: server, logger: false });
  await within(app.listen(), 10_000, 'worker subscribed');
  return { app, server };
}

describeEachBackend('MQTT ingest worker', (backend) => {
  let test: TestDatabase;
  let broker: Aedes;
  let listener: NetServer;
  let brokerUrl = '';
  const acks: string[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    test = await createTestDatabase(backend);
    await provisionVehicles(test.db, ['V-MQ', 'V-KILL', 'V-BADMQ']);
    broker = await Aedes.createBroker();
    broker.on('ack', (_packet, client) => acks.push(client.id));
    listener = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      broker.handle(socket);
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    brokerUrl = `mqtt://127.0.0.1:${(listener.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await within(c(), 10_000, 'cleanup').catch(() => undefined);
    for (const s of sockets) s.destroy();
    await within(new Promise<void>((r) => broker?.close(() => r())), 5_000, 'broker close').catch(() => undefined);
    await within(new Promise<void>((r) => listener?.close(() => r())), 5_000, 'listener close').catch(() => undefined);
    await test?.drop();
  });

  async function pipelineBehindProxy(): Promise<{ pipeline: IngestionPipeline; proxy: DatabaseOutageProxy; database: Database }> {
    const target = new URL(test.url);
    const proxy = new DatabaseOutageProxy(target.hostname, Number(target.port || 5432));
    await proxy.start();
    const database = createDatabase(proxy.urlFor(test.url), { max: 2, statementTimeoutMs: 5_000, onPoolError: () => undefined });
    const pipeline = testPipeline(database.db, { retryInitialMs: 20, retryMaxMs: 100 });
    cleanups.push(async () => {
      await proxy.restore().catch(() => undefined);
      await within(pipeline.close(), 5_000, 'pipeline close').catch(() => undefined);
      await database.close();
      await proxy.stop();
    });
    return { pipeline, proxy, database };
  }

  async function publisher(vehicleId: string): Promise<mqtt.MqttClient> {
    const client = await mqtt.connectAsync(brokerUrl, { clientId: `pub-${vehicleId}-${backend.kind}`, protocolVersion: 4 });
    cleanups.push(() => client.endAsync(true));
    return client;
  }

  const count = async (vehicleId: string): Promise<number> =>
    Number((await test.db.selectFrom('telemetry').select((eb) => eb.fn.countAll<number>().as('n')).where('vehicle_id', '=', vehicleId).executeTakeFirstOrThrow()).n);

  it('sends the PUBACK to the broker only after the commit', { timeout: 30_000 }, async () => {
    const clientId = `ingest-ack-${backend.kind}`;
    const { pipeline, proxy } = await pipelineBehindProxy();
    const { app } = await startWorker(brokerUrl, clientId, pipeline);
    cleanups.push(() => app.close());
    const pub = await publisher('V-MQ');
    const t0 = Date.now() - 600_000;

    await proxy.cut();
    for (let seq = 0; seq < 5; seq++) await pub.publishAsync('fleet/V-MQ/telemetry', JSON.stringify(sample({ tsMs: t0 + seq * 1000, seq })), { qos: 1 });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(acks.filter((id) => id === clientId)).toHaveLength(0);
    expect(await count('V-MQ')).toBe(0);

    await proxy.restore();
    await eventually(async () => acks.filter((id) => id === clientId).length === 5, 10_000, 'PUBACKs after commit');
    expect(await count('V-MQ')).toBe(5);
  });

  // SPEC §4.3 through the worker: a message that cannot be stored is dead-lettered and acknowledged (not redelivered
  // for ever), and the stream carries on.
  it('dead-letters and acknowledges a malformed message, then stores the next one', { timeout: 30_000 }, async () => {
    const clientId = `ingest-bad-${backend.kind}`;
    const { pipeline } = await pipelineBehindProxy();
    const { app } = await startWorker(brokerUrl, clientId, pipeline);
    cleanups.push(() => app.close());
    const pub = await publisher('V-BADMQ');
    await pub.publishAsync('fleet/V-BADMQ/telemetry', '{"v":1,"ts":', { qos: 1 });
    await pub.publishAsync('fleet/V-BADMQ/telemetry', JSON.stringify({ v: 1, ts: new Date().toISOString(), seq: 1, battery: { soc_pct: 140 } }), { qos: 1 });
    await pub.publishAsync('fleet/V-BADMQ/telemetry', JSON.stringify(sample({ tsMs: Date.now() - 60_000, seq: 2 })), { qos: 1 });
    await eventually(async () => acks.filter((id) => id === clientId).length === 3, 10_000, 'the worker acknowledges all three');
    const dl = await test.db.selectFrom('dead_letters').select(['reason', 'topic', 'vehicle_id']).where('vehicle_id', '=', 'V-BADMQ').orderBy('id').execute();
    // The earlier tests' workers are still subscribed (aedes has no $share): each of them writes its own dead letter.
    const distinct = [...new Map(dl.map((d) => [JSON.stringify(d), d])).values()];
    expect(distinct).toEqual([
      { reason: 'MALFORMED_JSON', topic: 'fleet/V-BADMQ/telemetry', vehicle_id: 'V-BADMQ' },
      { reason: 'OUT_OF_RANGE', topic: 'fleet/V-BADMQ/telemetry', vehicle_id: 'V-BADMQ' },
    ]);
    expect(await count('V-BADMQ')).toBe(1);
  });

  it('a worker that dies before committing gets the messages again under the same client id; none stored twice', { timeout: 30_000 }, async () => {
    const clientId = `ingest-kill-${backend.kind}`;
    // First incarnation: its database never comes back (as if the process was killed before committing).
    const first = await pipelineBehindProxy();
    const w1 = await startWorker(brokerUrl, clientId, first.pipeline);
    cleanups.push(() => w1.app.close());
    const pub = await publisher('V-KILL');
    const t0 = Date.now() - 600_000;
    await first.proxy.cut();
    for (let seq = 0; seq < 8; seq++) await pub.publishAsync('fleet/V-KILL/telemetry', JSON.stringify(sample({ tsMs: t0 + seq * 1000, seq })), { qos: 1 });
    await eventually(() => first.pipeline.pending === 8, 5_000, 'first worker holds the messages');
    // "kill -9": the connection drops without DISCONNECT and nothing more is sent by this worker.
    w1.server.unwrap<mqtt.MqttClient>().end(true);

    const second = await pipelineBehindProxy();
    const w2 = await startWorker(brokerUrl, clientId, second.pipeline);
    cleanups.push(() => w2.app.close());
    await eventually(async () => (await count('V-KILL')) === 8, 10_000, 'redelivered and stored');
    // The first incarnation's batch, if its database came back, is absorbed by the unique key.
    await first.proxy.restore();
    await within(first.pipeline.close(), 10_000, 'first pipeline drains');
    expect(await count('V-KILL')).toBe(8);
  });
});
