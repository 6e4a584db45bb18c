// The embedded mode of SPEC §2 as one call: the broker with in-process ingestion (each QoS 1 telemetry or event
// message is committed before its PUBACK), connectivity into vehicle_state, and the query API, sharing one
// database pool and one /metrics registry. Used by `npm start`, the end-to-end tests and the benchmarks.
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Config, Logger } from '@fleet/config';
import { statusTopic } from '@fleet/contracts';
import { createDatabase, type DB, ServiceAccountRepository, VehicleRepository } from '@fleet/db';
import type { Kysely } from 'kysely';
import type { Metric } from 'prom-client';
import { brokerOptionsFromConfig } from '../../broker/src/broker.options.js';
import { BrokerModule } from '../../broker/src/broker.module.js';
import { BrokerService } from '../../broker/src/broker.service.js';
import { RegistryCredentialStore } from '../../broker/src/credentials/registry-credential-store.js';
import type { ConnectivitySink, IngestSink } from '../../broker/src/ports.js';
import { pipelineOptionsFrom, retentionDaysFrom } from '../../ingestion/src/ingestion.module.js';
import { EnergyRollupService } from '../../ingestion/src/energy/energy-rollup.service.js';
import { IngestionPipeline } from '../../ingestion/src/pipeline/ingestion-pipeline.js';
import { IngestionMetrics } from '../../ingestion/src/pipeline/ingestion.metrics.js';
import { RetentionService } from '../../ingestion/src/retention/retention.service.js';
import { QueryMetrics } from '../../query/src/metrics/metrics.js';
import { createQueryApp } from '../../query/src/query.app.js';
import { queryOptionsFromConfig } from '../../query/src/query.config.js';

export interface StackOptions {
  config: Config;
  databaseUrl: string;
  logger: Logger;
}

export interface Stack {
  mqttPort: number;
  wsPort: number | null;
  httpPort: number;
  db: Kysely<DB>;
  pipeline: IngestionPipeline;
  broker: BrokerService;
  /** Stops accepting, lets in-flight commits finish and PUBACK, then closes the API and the pool. */
  stop(): Promise<void>;
}

const ONLINE = Buffer.from('{"v":1,"online":true}');
const OFFLINE = Buffer.from('{"v":1,"online":false}');

export async function startStack({ config, databaseUrl, logger }: StackOptions): Promise<Stack> {
  const database = createDatabase(databaseUrl, {
    max: config.DB_POOL_MAX,
    statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
    applicationName: 'specfleet',
    onPoolError: (error) => logger.warn({ err: error }, 'database connection lost; the pool reconnects'),
  });
  const cleanups: Array<() => Promise<void>> = [() => database.close()];
  const unwind = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((error: unknown) => logger.error({ err: error }, 'error while stopping'));
    }
  };
  try {
    const metrics = new QueryMetrics();
    const pipeline = new IngestionPipeline(database.db, {
      ...pipelineOptionsFrom(config),
      metrics: new IngestionMetrics(metrics.registry),
      logger: logger.child({ component: 'ingestion' }),
    });
    cleanups.push(() => pipeline.close());
    // energy_daily's rollup and the retention job (embedded mode has no ingestion worker to run them).
    const rollup = new EnergyRollupService(database.db, { logger: logger.child({ component: 'energy-rollup' }) });
    rollup.start();
    cleanups.push(() => rollup.stop());
    const retention = new RetentionService(database.db, { days: retentionDaysFrom(config), logger: logger.child({ component: 'retention' }), metrics: pipeline.metrics });
    retention.start();
    cleanups.push(() => retention.stop());

    const ingest: IngestSink = { ingest: (message) => pipeline.ingest(message) };
    // Connect and disconnect travel the pipeline's status path, so they are ordered with the vehicle's own retained
    // status messages by time and never move vehicle_state back.
    const connectivityFact = (vehicleId: string, payload: Buffer, at: Date): void => {
      pipeline
        .ingest({ vehicleId, channel: 'status', topic: statusTopic(vehicleId), payload, receivedAt: at })
        .catch((error: unknown) => logger.warn({ err: error, vehicleId }, 'connectivity not recorded'));
    };
    const connectivity: ConnectivitySink = {
      connected: (vehicleId, at) => connectivityFact(vehicleId, ONLINE, at),
      disconnected: (vehicleId, at) => connectivityFact(vehicleId, OFFLINE, at),
      status: (vehicleId, payload, at) => connectivityFact(vehicleId, payload, at),
    };
    const credentials = new RegistryCredentialStore(new VehicleRepository(database.db), new ServiceAccountRepository(database.db));
    const brokerContext: INestApplicationContext = await NestFactory.createApplicationContext(
      BrokerModule.forRoot({
        credentials,
        ingest,
        connectivity,
        options: brokerOptionsFromConfig(config, 'embedded'),
        logger: logger.child({ component: 'broker' }),
      }),
      { logger: false },
    );
    cleanups.push(() => brokerContext.close());
    const broker = brokerContext.get(BrokerService);
    // prom-client types getMetricsAsArray() loosely; the objects are the registered Metric instances themselves.
    for (const metric of broker.metrics.registry.getMetricsAsArray()) metrics.registry.registerMetric(metric as unknown as Metric);
    const addresses = broker.addresses();

    const app: NestFastifyApplication = await createQueryApp({
      db: database.db,
      logger: logger.child({ component: 'query' }),
      // Provisioning answers the port the broker actually listens on (MQTT_PORT=0 picks an ephemeral one).
      options: { ...queryOptionsFromConfig(config), mqtt: { host: config.PUBLIC_HOST, port: addresses.tcp } },
      metrics,
      readiness: { broker: async () => void broker.addresses() }, // throws once the listeners are closed
      // A rotated secret takes effect at once: the old one is forgotten and a session opened with it is closed.
      credentialsRotated: (vehicleId) => broker.invalidateCredentials(vehicleId, { disconnect: true }),
    });
    await app.listen({ port: config.HTTP_PORT, host: '0.0.0.0' });
    cleanups.push(() => app.close());
    const httpPort = (app.getHttpServer().address() as AddressInfo).port;

    // Order of stopping: the API, then the broker (drains in-flight commits, PUBACKs them), then the pipeline
    // (writes what it admitted), then the pool — the reverse of starting.
    return { mqttPort: addresses.tcp, wsPort: addresses.ws, httpPort, db: database.db, pipeline, broker, stop: unwind };
  } catch (error) {
    await unwind();
    throw error;
  }
}
