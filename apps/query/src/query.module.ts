// The operator-facing HTTP API (SPEC §5). Built around a database handle owned by the caller, so the embedded
// mode shares one pool between broker, ingestion and query.
import { type DynamicModule, Module } from '@nestjs/common';
import { DATABASE, type DB, HealthRepository } from '@fleet/db';
import type { Kysely } from 'kysely';
import { HealthController } from './health/health.controller.js';
import { HealthService } from './health/health.service.js';

export interface QueryModuleOptions {
  db: Kysely<DB>;
}

@Module({})
export class QueryModule {
  static register(options: QueryModuleOptions): DynamicModule {
    return {
      module: QueryModule,
      controllers: [HealthController],
      providers: [
        { provide: DATABASE, useValue: options.db },
        { provide: HealthRepository, useFactory: (db: Kysely<DB>) => new HealthRepository(db), inject: [DATABASE] },
        HealthService,
      ],
    };
  }
}
