// @fleet/db: the database handle, table types, migrations and repositories. All SQL of the project lives here.
export { DATABASE, type Database, type DatabaseOptions, type DB, createDatabase, parseInt8, poolOf } from './database.js';
export { type BackendInfo, type StorageBackend, describeBackend, detectBackend } from './backend.js';
export { MIGRATIONS, type MigrateResult, migrateDown, migrateToLatest } from './migrate.js';

export type * from './tables/column-types.js';
export * from './tables/tenant.table.js';
export * from './tables/api-key.table.js';
export * from './tables/vehicle.table.js';
export * from './tables/service-account.table.js';
export * from './tables/telemetry.table.js';
export * from './tables/event.table.js';
export * from './tables/vehicle-state.table.js';
export * from './tables/energy-daily.table.js';
export * from './tables/energy-hourly.table.js';
export * from './tables/dead-letter.table.js';
export * from './tables/specfleet-meta.table.js';

export { type BulkInsertResult, TELEMETRY_COLUMNS, TelemetryRepository } from './repositories/telemetry.repository.js';
export { EVENT_COLUMNS, EventsRepository } from './repositories/events.repository.js';
export { DEAD_LETTER_RAW_LIMIT, DeadLetterRepository, type NewDeadLetter } from './repositories/dead-letter.repository.js';
export { type NewVehicle, type Vehicle, type VehicleCredential, VehicleRepository, toVehicle } from './repositories/vehicle.repository.js';
export { type Tenant, TenantRepository, toTenant } from './repositories/tenant.repository.js';
export { type ApiKey, ApiKeyRepository, type NewApiKey, toApiKey } from './repositories/api-key.repository.js';
export { type ServiceAccount, ServiceAccountRepository, toServiceAccount } from './repositories/service-account.repository.js';
export { HealthRepository } from './repositories/health.repository.js';
export { type EmbeddedPostgresOptions, type EmbeddedPostgresServer, ensureDatabaseExists, startEmbeddedPostgres } from './embedded-postgres.js';
export { type ActiveAlarmRow, type ConnectivityClock, type ConnectivityValue, type FleetFilter, FleetQueryRepository, type FleetStatusRow, type FleetVehicleRow } from './repositories/fleet-query.repository.js';
export { type RawSample, SERIES_SIGNALS, type SeriesBucket, type SeriesPoint, type SeriesSignal, TelemetryQueryRepository } from './repositories/telemetry-query.repository.js';
export { type EventFilter, EventQueryRepository, type StoredEvent } from './repositories/event-query.repository.js';
export { compareGroupKeys, ENERGY_COUNTERS, type EnergyGroupBy, type EnergyGroupRow, type EnergyReportColumn, type EnergyReportQuery, EnergyReportRepository, type EnergyStepLimit, type EnergySumsRow, lookbackAlong, lookbackFor, planEnergyRange, type RawScanOptions, withoutPartsFrom } from './repositories/energy-report.repository.js';
export { ENERGY_HOURLY_COUNTERS, type EnergyHourlyColumn, type EnergyIncrement, EnergyHourlyRepository, type SampleKey, type StepLimits } from './repositories/energy-hourly.repository.js';
export { EnergyDailyRepository, type WatermarkAdvance } from './repositories/energy-daily.repository.js';
export { type IngestTransaction, IngestTransactionRepository } from './repositories/ingest-transaction.repository.js';
export { RETENTION_TABLES, RetentionRepository, type RetentionResult, type RetentionTable } from './repositories/retention.repository.js';
export {
  type AlarmStateUpdate,
  LAST_COUNTER_COLUMNS,
  type LastCounters,
  type LockedVehicleState,
  type SnapshotUpdate,
  type StatusUpdate,
  VehicleStateRepository,
} from './repositories/vehicle-state.repository.js';
