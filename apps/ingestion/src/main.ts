// Distributed-mode ingestion worker: a Nest microservice whose transport is an MQTT subscriber that acknowledges each
// message only after it is committed. Run N of them with the same INGEST_SHARED_GROUP and distinct INGEST_CLIENT_IDs
// (against a broker with shared subscriptions; specfleet's own broker has none: INGEST_SHARED_GROUP=none, one worker).
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { createLogger, loadConfigOrExit, serveMetrics } from '@fleet/config';
import { createDatabase, migrateToLatest } from '@fleet/db';
import { IngestionModule } from './ingestion.module.js';
import { MqttIngestServer } from './mqtt/mqtt-ingest.server.js';
import { IngestionPipeline } from './pipeline/ingestion-pipeline.js';

const config = loadConfigOrExit('ingestion');
const logger = createLogger('ingestion', config.LOG_LEVEL);
if (!config.DATABASE_URL) {
  logger.fatal('DATABASE_URL is required for the ingestion worker');
  process.exit(1);
}

// The migrator holds a lock, so N workers starting together migrate once.
const migrations = createDatabase(config.DATABASE_URL, { max: 1, statementTimeoutMs: 0, applicationName: 'specfleet-migrate' });
try {
  await migrateToLatest(migrations.db, (msg) => logger.info(msg));
} finally {
  await migrations.close();
}

// The broker admits a service account under its own name or `{account}:{worker}` (apps/broker authenticate hook).
const clientId = config.INGEST_CLIENT_ID ?? `${config.INGEST_MQTT_USERNAME}:1`;
const sharedGroup = config.INGEST_SHARED_GROUP === 'none' ? undefined : config.INGEST_SHARED_GROUP;
const app = await NestFactory.createMicroservice(IngestionModule.forRoot(config, logger), {
  strategy: new MqttIngestServer({
    url: config.INGEST_MQTT_URL,
    clientId,
    username: config.INGEST_MQTT_USERNAME,
    ...(config.INGEST_MQTT_PASSWORD !== undefined ? { password: config.INGEST_MQTT_PASSWORD } : {}),
    ...(sharedGroup !== undefined ? { sharedGroup } : {}),
    logger,
  }),
  logger: ['error', 'warn'],
});
app.enableShutdownHooks();
try {
  await app.listen();
} catch (error) {
  logger.fatal({ event: 'ingestion_not_subscribed', err: (error as Error).message }, (error as Error).message);
  await app.close().catch(() => undefined);
  process.exit(1);
}
const metrics = await serveMetrics(app.get(IngestionPipeline).metrics.registry, config.INGEST_METRICS_PORT);
logger.info({ event: 'metrics_listening', port: metrics.port }, 'GET /metrics');
logger.info({ event: 'ingestion_started', clientId, group: sharedGroup ?? null }, 'ingestion worker running');
