// Tunables of the query API (limits, health thresholds, energy conversion factors), with documented defaults.
// The launchers map configuration (libs/config) onto this object; tests pass partial overrides.

/** Health-rule thresholds (GET /api/v1/fleet/health). A rule whose threshold is null is switched off. */
export interface HealthThresholds {
  /** Hottest battery cell/module temperature, °C. GB/T 32960 makes "battery high temperature" a general alarm;
   *  Li-ion packs are usually derated from ~45 °C and must stop well before 60 °C. */
  batteryTempWarnC: number | null;
  batteryTempCriticalC: number | null;
  /** Highest minus lowest cell voltage, V. A healthy balanced pack sits within ~30 mV. */
  cellImbalanceWarnV: number | null;
  cellImbalanceCriticalV: number | null;
  /** State of health, %. 80 % is the customary end-of-first-life criterion for traction batteries. */
  sohWarnPct: number | null;
  sohCriticalPct: number | null;
  /** Battery state of charge, % — the energy level of bev (and the fallback for a fcev without a hydrogen reading). */
  socWarnPct: number | null;
  socCriticalPct: number | null;
  /** Hydrogen left as a share of the tank capacity (vehicles.h2_capacity_kg), %; */
  h2WarnPct: number | null;
  h2CriticalPct: number | null;
  /** …or, when the capacity is unknown, in kg. */
  h2WarnKg: number | null;
  h2CriticalKg: number | null;
  /** Fuel level, % — ice and phev (a phev still drives on fuel with an empty battery). */
  fuelWarnPct: number | null;
  fuelCriticalPct: number | null;
  /** Active alarm level (GB/T 32960: 1 no effect on driving, 2 degraded, 3 stop now) at or above which the grade is warn / critical. */
  alarmWarnLevel: number | null;
  alarmCriticalLevel: number | null;
  /** Number of active DTCs at or above which the grade is warn / critical. */
  dtcWarnCount: number | null;
  dtcCriticalCount: number | null;
  /** Offline for longer than this (seconds since the last sample, or since provisioning when it never reported). */
  offlineWarnS: number | null;
  offlineCriticalS: number | null;
}

/**
 * Conversion factors of GET /api/v1/energy. Sources of the defaults:
 * - dieselKwhPerL 9.95: lower heating value of diesel 42 652 kJ/kg (GB/T 2589-2020 "General principles for
 *   calculation of the comprehensive energy consumption", Annex A) × 0.84 kg/L (density of automotive diesel,
 *   GB 19147 allows 0.810–0.845 at 20 °C) / 3 600 kJ/kWh = 9.95 kWh/L.
 * - h2KwhPerKg 33.33: lower heating value of hydrogen, 119.96 MJ/kg (US DOE Hydrogen Data Book / H2 Tools) / 3.6.
 * - gridKgCo2PerKwh 0.5366: national average electricity CO2 emission factor of China for 2022, published by the
 *   Ministry of Ecology and Environment and the National Bureau of Statistics (announcement of 20 Dec 2024).
 *   Regional factors (e.g. North China 0.6776, South 0.3869) come from the same announcement.
 * - dieselKgCo2PerL 2.66: IPCC 2006 Guidelines Vol. 2 ch. 3 (mobile combustion), default 74 100 kg CO2/TJ for
 *   diesel × 35.83 MJ/L (the LHV above) = 2.655 kg/L, rounded.
 * - h2KgCo2PerKg 10: grey hydrogen from unabated natural-gas steam reforming, ~10 kg CO2/kg H2 (IEA, "The Future of
 *   Hydrogen", 2019). China's hydrogen is largely coal-based (IEA: ~19 kg CO2/kg); by-product hydrogen less;
 *   renewable hydrogen ~0 — set the factor for your supply.
 */
export interface ConversionFactors {
  dieselKwhPerL: number;
  h2KwhPerKg: number;
  gridKgCo2PerKwh: number;
  dieselKgCo2PerL: number;
  h2KgCo2PerKg: number;
}

export interface PageLimits {
  defaultSize: number;
  maxSize: number;
}

export interface QueryOptions {
  /** What POST /vehicles hands out as the MQTT endpoint. */
  mqtt: { host: string; port: number };
  /** A vehicle silent for longer than this is offline even if the broker still thinks it is connected (SPEC §5). */
  offlineAfterS: number;
  /** Longest from–to range, per endpoint family, in seconds. */
  maxRangeS: { telemetryRaw: number; telemetryBucketed: number; events: number; energy: number };
  /** Smallest bucket and most buckets per bucketed telemetry answer. */
  minBucketS: number;
  maxBuckets: number;
  /** Page sizes (limit=) of the lists; telemetry has its own (samples are small and many). */
  page: PageLimits;
  telemetryPage: PageLimits;
  health: HealthThresholds;
  conversion: ConversionFactors;
  /** false: GET /metrics needs an API key too. */
  metricsPublic: boolean;
  /**
   * Days raw telemetry (and its 10-minute energy rows) are kept (RETENTION_TELEMETRY_DAYS): before that, energy is
   * exact to the whole hour only (energy_hourly is kept), so a range end off the hour there is refused.
   */
  rawKeptDays: number;
  /** How long a found API key is trusted without reading api_keys again, i.e. how late a revocation may take
   *  effect in a running process (seconds; 0: look every key up on every request). */
  apiKeyCacheS: number;
}

export const DEFAULT_HEALTH_THRESHOLDS: Readonly<HealthThresholds> = Object.freeze({
  batteryTempWarnC: 45,
  batteryTempCriticalC: 55,
  cellImbalanceWarnV: 0.1,
  cellImbalanceCriticalV: 0.3,
  sohWarnPct: 80,
  sohCriticalPct: 70,
  socWarnPct: 20,
  socCriticalPct: 10,
  h2WarnPct: 20,
  h2CriticalPct: 10,
  h2WarnKg: 3,
  h2CriticalKg: 1,
  fuelWarnPct: 15,
  fuelCriticalPct: 5,
  alarmWarnLevel: 1,
  alarmCriticalLevel: 3,
  dtcWarnCount: 1,
  dtcCriticalCount: 10,
  offlineWarnS: 24 * 3600,
  offlineCriticalS: 72 * 3600,
});

export const DEFAULT_CONVERSION_FACTORS: Readonly<ConversionFactors> = Object.freeze({
  dieselKwhPerL: 9.95,
  h2KwhPerKg: 33.33,
  gridKgCo2PerKwh: 0.5366,
  dieselKgCo2PerL: 2.66,
  h2KgCo2PerKg: 10,
});

export const DEFAULT_QUERY_OPTIONS: Readonly<QueryOptions> = Object.freeze({
  mqtt: { host: 'localhost', port: 1883 },
  offlineAfterS: 900,
  maxRangeS: { telemetryRaw: 86_400, telemetryBucketed: 31 * 86_400, events: 31 * 86_400, energy: 366 * 86_400 },
  minBucketS: 1,
  maxBuckets: 10_000,
  page: { defaultSize: 100, maxSize: 1_000 },
  telemetryPage: { defaultSize: 1_000, maxSize: 10_000 },
  health: DEFAULT_HEALTH_THRESHOLDS,
  conversion: DEFAULT_CONVERSION_FACTORS,
  metricsPublic: true,
  rawKeptDays: 400,
  apiKeyCacheS: 5,
});

export type QueryOptionsInput = Partial<Omit<QueryOptions, 'health' | 'conversion' | 'maxRangeS' | 'page' | 'telemetryPage' | 'mqtt'>> & {
  mqtt?: Partial<QueryOptions['mqtt']>;
  maxRangeS?: Partial<QueryOptions['maxRangeS']>;
  page?: Partial<PageLimits>;
  telemetryPage?: Partial<PageLimits>;
  health?: Partial<HealthThresholds>;
  conversion?: Partial<ConversionFactors>;
};

/** Fills in the defaults; nested objects merge field by field. */
export function resolveQueryOptions(input: QueryOptionsInput = {}): QueryOptions {
  const d = DEFAULT_QUERY_OPTIONS;
  return Object.freeze({
    ...d,
    ...stripUndefined(input),
    mqtt: { ...d.mqtt, ...stripUndefined(input.mqtt ?? {}) },
    maxRangeS: { ...d.maxRangeS, ...stripUndefined(input.maxRangeS ?? {}) },
    page: { ...d.page, ...stripUndefined(input.page ?? {}) },
    telemetryPage: { ...d.telemetryPage, ...stripUndefined(input.telemetryPage ?? {}) },
    health: { ...d.health, ...stripUndefined(input.health ?? {}) },
    conversion: { ...d.conversion, ...stripUndefined(input.conversion ?? {}) },
  }) as QueryOptions;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Nest injection token of the resolved QueryOptions. */
export const QUERY_OPTIONS = Symbol('specfleet.query.options');
/** The application's logger (a pino Logger), for what is logged outside the error filter (e.g. failed readiness checks). */
export const QUERY_LOGGER = Symbol('specfleet.query.logger');
