// Maps the validated configuration (libs/config) onto QueryOptions, for both launchers. An unset variable
// leaves the documented default of query.options.ts in place (resolveQueryOptions skips undefined).
import type { Config } from '@fleet/config';
import type { QueryOptionsInput } from './query.options.js';

export function queryOptionsFromConfig(config: Config): QueryOptionsInput {
  return {
    mqtt: { host: config.PUBLIC_HOST, port: config.MQTT_PORT },
    offlineAfterS: config.QUERY_OFFLINE_AFTER_S,
    maxRangeS: {
      telemetryRaw: config.QUERY_MAX_RANGE_RAW_S,
      telemetryBucketed: days(config.QUERY_MAX_RANGE_BUCKETED_DAYS),
      events: days(config.QUERY_MAX_RANGE_EVENTS_DAYS),
      energy: days(config.QUERY_MAX_RANGE_ENERGY_DAYS),
    },
    maxBuckets: config.QUERY_MAX_BUCKETS,
    page: { defaultSize: config.QUERY_PAGE_SIZE_DEFAULT, maxSize: config.QUERY_PAGE_SIZE_MAX },
    telemetryPage: { maxSize: config.QUERY_TELEMETRY_PAGE_SIZE_MAX },
    metricsPublic: config.QUERY_METRICS_PUBLIC,
    rawKeptDays: config.RETENTION_TELEMETRY_DAYS,
    apiKeyCacheS: config.QUERY_API_KEY_CACHE_S,
    health: {
      batteryTempWarnC: config.HEALTH_BATTERY_TEMP_WARN_C,
      batteryTempCriticalC: config.HEALTH_BATTERY_TEMP_CRITICAL_C,
      cellImbalanceWarnV: config.HEALTH_CELL_IMBALANCE_WARN_V,
      cellImbalanceCriticalV: config.HEALTH_CELL_IMBALANCE_CRITICAL_V,
      sohWarnPct: config.HEALTH_SOH_WARN_PCT,
      sohCriticalPct: config.HEALTH_SOH_CRITICAL_PCT,
      socWarnPct: config.HEALTH_SOC_WARN_PCT,
      socCriticalPct: config.HEALTH_SOC_CRITICAL_PCT,
      h2WarnPct: config.HEALTH_H2_WARN_PCT,
      h2CriticalPct: config.HEALTH_H2_CRITICAL_PCT,
      fuelWarnPct: config.HEALTH_FUEL_WARN_PCT,
      fuelCriticalPct: config.HEALTH_FUEL_CRITICAL_PCT,
      offlineWarnS: hours(config.HEALTH_OFFLINE_WARN_H),
      offlineCriticalS: hours(config.HEALTH_OFFLINE_CRITICAL_H),
    },
    conversion: {
      dieselKwhPerL: config.ENERGY_DIESEL_KWH_PER_L,
      h2KwhPerKg: config.ENERGY_H2_KWH_PER_KG,
      gridKgCo2PerKwh: config.ENERGY_GRID_KG_CO2_PER_KWH,
      dieselKgCo2PerL: config.ENERGY_DIESEL_KG_CO2_PER_L,
      h2KgCo2PerKg: config.ENERGY_H2_KG_CO2_PER_KG,
    },
  };
}

const days = (n: number | undefined): number | undefined => (n === undefined ? undefined : n * 86_400);
const hours = (n: number | undefined): number | undefined => (n === undefined ? undefined : n * 3_600);

/** Host and port of the broker for the readiness probe, from the URL ingestion connects to. */
export function brokerAddress(config: Config): { host: string; port: number } {
  const url = new URL(config.INGEST_MQTT_URL);
  const defaults: Record<string, number> = { 'mqtt:': 1883, 'mqtts:': 8883, 'ws:': 80, 'wss:': 443 };
  return { host: url.hostname, port: url.port ? Number(url.port) : (defaults[url.protocol] ?? 1883) };
}
