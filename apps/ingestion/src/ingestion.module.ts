// The ingestion process of distributed mode: database pool, pipeline, retention job and the MQTT ingest handler.
import { Inject, Injectable, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Config, Logger } from '@fleet/config';
import { createDatabase, DATABASE, type Database } from '@fleet/db';
import { IngestController } from './mqtt/ingest.controller.js';
import { IngestionPipeline } from './pipeline/ingestion-pipeline.js';
import { EnergyRollupService } from './energy/energy-rollup.service.js';
import { RetentionService } from './retention/retention.service.js';

export const DATABASE_HANDLE = Symbol('specfleet.ingestion.database-handle');
export const INGESTION_LOGGER = Symbol('specfleet.ingestion.logger');

/** Options of the pipeline derived from the validated environment. */
export function pipelineOptionsFrom(config: Config) {
  return {
    maxBatchSize: config.INGEST_BATCH_MAX,
    maxDelayMs: config.INGEST_BATCH_WAIT_MS,
    maxPending: config.INGEST_MAX_PENDING,
    partitions: config.INGEST_PARTITIONS,
    maxConcurrentFlushes: config.INGEST_FLUSHES_PER_PARTITION,
    decode: {
      maxFutureMs: config.TS_MAX_FUTURE_S * 1000,
      maxAgeMs: config.TS_MAX_AGE_DAYS * 86_400_000,
      maxSamples: config.MAX_SAMPLES_PER_MESSAGE,
      maxBytes: config.MQTT_MAX_PACKET_BYTES,
    },
  };
}

/** Days each table is kept (RETENTION_*_DAYS), for the retention job of either mode. */
export function retentionDaysFrom(config: Config) {
  return { telemetry: config.RETENTION_TELEMETRY_DAYS, events: config.RETENTION_EVENTS_DAYS, dead_letters: config.RETENTION_DEAD_LETTERS_DAYS };
}

@Injectable()
class IngestionLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly pipeline: IngestionPipeline,
    private readonly retention: RetentionService,
    private readonly rollup: EnergyRollupService,
    @Inject(DATABASE_HANDLE) private readonly database: Database,
    @Inject(INGESTION_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.retention.start();
    this.rollup.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.retention.stop();
    await this.rollup.stop();
    // Nest closes the transport (no new messages, in-flight commits finish) before this hook.
    const closing = this.pipeline.close();
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000).unref());
    if ((await Promise.race([closing, timeout])) === 'timeout') {
      this.logger.warn({ event: 'shutdown_pending', pending: this.pipeline.pending }, 'database unreachable at shutdown: unacknowledged messages stay with the broker');
    }
    await this.database.close();
  }
}

@Module({})
export class IngestionModule {
  static forRoot(config: Config, logger: Logger): DynamicModule {
    const url = config.DATABASE_URL;
    if (!url) throw new Error('DATABASE_URL is required for the ingestion worker');
    return {
      module: IngestionModule,
      controllers: [IngestController],
      providers: [
        { provide: INGESTION_LOGGER, useValue: logger },
        {
          provide: DATABASE_HANDLE,
          useFactory: () =>
            createDatabase(url, {
              max: config.DB_POOL_MAX,
              statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
              applicationName: 'specfleet-ingestion',
              onPoolError: (err) => logger.warn({ event: 'db_pool_error', err: err.message }, 'database connection lost'),
            }),
        },
        { provide: DATABASE, useFactory: (h: Database) => h.db, inject: [DATABASE_HANDLE] },
        {
          provide: IngestionPipeline,
          useFactory: (h: Database) => new IngestionPipeline(h.db, { ...pipelineOptionsFrom(config), logger }),
          inject: [DATABASE_HANDLE],
        },
        {
          provide: RetentionService,
          useFactory: (h: Database, pipeline: IngestionPipeline) =>
            new RetentionService(h.db, { days: retentionDaysFrom(config), logger, metrics: pipeline.metrics }),
          inject: [DATABASE_HANDLE, IngestionPipeline],
        },
        { provide: EnergyRollupService, useFactory: (h: Database) => new EnergyRollupService(h.db, { logger }), inject: [DATABASE_HANDLE] },
        IngestionLifecycle,
      ],
      exports: [IngestionPipeline],
    };
  }
}
