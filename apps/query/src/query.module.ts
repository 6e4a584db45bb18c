// The operator-facing HTTP API (SPEC §5). Built around a database handle owned by the caller, so the embedded
// mode shares one pool between broker, ingestion and query.
import { type DynamicModule, Module, type Type as ClassType } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { Kysely } from 'kysely';
import type { Logger } from '@fleet/config';
import { AlarmsController, AlarmsService } from './alarms/alarms.controller.js';
import { ApiKeyCache } from './auth/api-key-cache.js';
import { AuthGuard } from './auth/auth.guard.js';
import { ValidationGuard } from './common/validation.guard.js';
import {
  ApiKeyRepository,
  DATABASE,
  type DB,
  EnergyReportRepository,
  EventQueryRepository,
  FleetQueryRepository,
  HealthRepository,
  TelemetryQueryRepository,
  VehicleRepository,
} from '@fleet/db';
import { EnergyController } from './energy/energy.controller.js';
import { EnergyService } from './energy/energy.service.js';
import { FleetController } from './fleet/fleet.controller.js';
import { FleetService } from './fleet/fleet.service.js';
import { HealthController } from './health/health.controller.js';
import { HealthService, READINESS_PROBES, type ReadinessProbes } from './health/health.service.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { QueryMetrics } from './metrics/metrics.js';
import { QUERY_LOGGER, QUERY_OPTIONS, type QueryOptions, type QueryOptionsInput, resolveQueryOptions } from './query.options.js';
import { VehicleHistoryService } from './vehicles/vehicle-history.service.js';
import { VehiclesController } from './vehicles/vehicles.controller.js';
import { CREDENTIALS_ROTATED, type CredentialsRotated } from './vehicles/vehicles.service.js';
import { VehiclesService } from './vehicles/vehicles.service.js';

export interface QueryModuleOptions {
  db: Kysely<DB>;
  /** Limits, thresholds, conversion factors, MQTT endpoint; defaults in query.options.ts. */
  options?: QueryOptionsInput;
  /** Extra readiness checks besides the database (e.g. { broker: tcpProbe(host, port) }). */
  readiness?: ReadinessProbes;
  /** Metrics registry holder; one is created when absent. */
  metrics?: QueryMetrics;
  /** Told after a vehicle's secret was rotated, e.g. so the broker of the same process drops its cached credential. */
  credentialsRotated?: CredentialsRotated;
  /** Where failed readiness checks are logged (createQueryApp passes its logger); nothing is logged without one. */
  logger?: Logger;
}

/** Every controller of the API, in the order the OpenAPI document lists them. */
export const QUERY_CONTROLLERS: ReadonlyArray<ClassType<unknown>> = [
  FleetController,
  VehiclesController,
  AlarmsController,
  EnergyController,
  HealthController,
  MetricsController,
];

const REPOSITORIES = [ApiKeyRepository, VehicleRepository, FleetQueryRepository, TelemetryQueryRepository, EventQueryRepository, EnergyReportRepository, HealthRepository];

@Module({})
export class QueryModule {
  static register(input: QueryModuleOptions): DynamicModule {
    return {
      module: QueryModule,
      controllers: [...QUERY_CONTROLLERS],
      providers: [
        { provide: DATABASE, useValue: input.db },
        { provide: QUERY_OPTIONS, useValue: resolveQueryOptions(input.options) },
        { provide: READINESS_PROBES, useValue: input.readiness ?? {} },
        ...(input.logger ? [{ provide: QUERY_LOGGER, useValue: input.logger }] : []),
        { provide: CREDENTIALS_ROTATED, useValue: input.credentialsRotated ?? (() => undefined) },
        { provide: QueryMetrics, useValue: input.metrics ?? new QueryMetrics() },
        ...REPOSITORIES.map((R) => ({ provide: R, useFactory: (db: Kysely<DB>) => new R(db), inject: [DATABASE] })),
        { provide: ApiKeyCache, useFactory: (keys: ApiKeyRepository, options: QueryOptions) => new ApiKeyCache(keys, options), inject: [ApiKeyRepository, QUERY_OPTIONS] },
        // Global guards run in this order: who is calling (401/403) before what they asked (400). Authentication runs
        // first in an onRequest hook (auth/auth.hook.ts, before the body is parsed); the guard re-checks the role.
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_GUARD, useClass: ValidationGuard },
        HealthService,
        VehiclesService,
        VehicleHistoryService,
        FleetService,
        AlarmsService,
        EnergyService,
      ],
    };
  }
}
