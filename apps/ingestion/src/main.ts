// Distributed-mode ingestion worker: a Nest microservice whose transport is an MQTT subscriber that acknowledges each
// message only after it is committed. Run N of them with the same INGEST_SHARED_GROUP and distinct INGEST_CLIENT_IDs.
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

const app = await NestFactory.createMicroservice(IngestionModule.forRoot(config, logger), {
  strategy: new MqttIngestServer({
    url: config.INGEST_MQTT_URL,
    clientId: config.INGEST_CLIENT_ID,
    username: config.INGEST_MQTT_USERNAME,
    ...(config.INGEST_MQTT_PASSWORD !== undefined ? { password: config.INGEST_MQTT_PASSWORD } : {}),
    sharedGroup: config.INGEST_SHARED_GROUP,
    logger,
  }),
  logger: ['error', 'warn'],
});
app.enableShutdownHooks();
await app.listen();
const metrics = await serveMetrics(app.get(IngestionPipeline).metrics.registry, config.INGEST_METRICS_PORT);
logger.info({ event: 'metrics_listening', port: metrics.port }, 'GET /metrics');
logger.info({ event: 'ingestion_started', clientId: config.INGEST_CLIENT_ID, group: config.INGEST_SHARED_GROUP || null }, 'ingestion worker running');
