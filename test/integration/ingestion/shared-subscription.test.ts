// Two ingestion workers in one `$share/ingest` group on Mosquitto 2 (the apt package; the test is skipped when the
// binary is missing — infra/mosquitto.sh install): the stream is split between them and every message is stored once.
import { Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { IngestController } from '../../../apps/ingestion/src/mqtt/ingest.controller.js';
import { MqttIngestServer } from '../../../apps/ingestion/src/mqtt/mqtt-ingest.server.js';
import { IngestionPipeline } from '../../../apps/ingestion/src/pipeline/ingestion-pipeline.js';
import { createTestDatabase, describeEachBackend, type TestDatabase } from '../../setup/database.js';
import { eventually, MOSQUITTO_BIN, provisionVehicles, quietLogger, sample, startMosquitto, testPipeline, within } from './helpers.js';

describeEachBackend('two workers sharing $share/ingest on mosquitto', (backend) => {
  let test: TestDatabase;
  let broker: { url: string; stop(): Promise<void> } | undefined;
  let url = '';
  const apps: INestMicroservice[] = [];
  const pipelines: IngestionPipeline[] = [];

  beforeAll(async () => {
    if (!MOSQUITTO_BIN) return;
    test = await createTestDatabase(backend);
    await provisionVehicles(test.db, ['V-SH-1', 'V-SH-2', 'V-SH-3']);
    broker = await startMosquitto();
    url = broker.url;
    for (const n of [1, 2]) {
      const pipeline = testPipeline(test.db);
      @Module({ controllers: [IngestController], providers: [{ provide: IngestionPipeline, useValue: pipeline }] })
      class WorkerModule {}
      const app = await NestFactory.createMicroservice(WorkerModule, {
        strategy: new MqttIngestServer({ url, clientId: `ingest-share-${n}-${backend.kind}`, sharedGroup: 'ingest', logger: quietLogger }),
        logger: false,
      });
      await within(app.listen(), 10_000, `worker ${n}`);
      apps.push(app);
      pipelines.push(pipeline);
    }
  });
  afterAll(async () => {
    for (const app of apps) await within(app.close(), 10_000, 'worker close').catch(() => undefined);
    for (const p of pipelines) await p.close();
    await broker?.stop();
    await test?.drop();
  });

  it.skipIf(!MOSQUITTO_BIN)('splits the stream and stores each message once', { timeout: 30_000 }, async () => {
    const received = pipelines.map(() => 0);
    pipelines.forEach((p, i) => {
      const ingest = p.submit.bind(p);
      p.submit = (m) => {
        received[i]!++;
        return ingest(m);
      };
    });
    const pub = await mqtt.connectAsync(url, { clientId: `pub-share-${backend.kind}` });
    const t0 = Date.now() - 600_000;
    const N = 300;
    await Promise.all(
      Array.from({ length: N }, (_, i) => pub.publishAsync(`fleet/V-SH-${(i % 3) + 1}/telemetry`, JSON.stringify(sample({ tsMs: t0 + i * 1000, seq: i })), { qos: 1 })),
    );
    await pub.endAsync();
    const count = async () => Number((await test.db.selectFrom('telemetry').select((eb) => eb.fn.countAll<number>().as('n')).where('vehicle_id', 'like', 'V-SH-%').executeTakeFirstOrThrow()).n);
    await eventually(async () => (await count()) === N, 15_000, 'all stored');
    expect(received[0]! + received[1]!).toBe(N); // each message delivered to exactly one worker
    expect(received[0]).toBeGreaterThan(0);
    expect(received[1]).toBeGreaterThan(0);
  });
});
