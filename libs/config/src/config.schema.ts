// The environment of every specfleet process (SPEC §7): one schema gives the defaults, the conversion from
// strings, the checks and the TypeScript type, so a bad value is refused at start-up, never at first use.
import Type, { type Static } from 'typebox';

const port = (defaultPort: number, description: string) =>
  Type.Integer({ minimum: 0, maximum: 65535, default: defaultPort, description });
const int = (min: number, max: number, defaultValue: number, description: string) =>
  Type.Integer({ minimum: min, maximum: max, default: defaultValue, description });
const optNumber = (min: number, max: number, description: string) =>
  Type.Optional(Type.Number({ minimum: min, maximum: max, description }));
const enumOf = <const T extends readonly string[]>(values: T, defaultValue: T[number], description: string) =>
  Type.Union(values.map((v) => Type.Literal(v)) as never, { default: defaultValue, description, allowed: values });

export const ConfigSchema = Type.Object({
  DATABASE_URL: Type.Optional(
    Type.String({ pattern: '^postgres(ql)?://', description: 'PostgreSQL/TimescaleDB URL; embedded PostgreSQL when unset (npm start)' }),
  ),
  SPECFLEET_DATA_DIR: Type.String({ minLength: 1, default: './.data', description: 'where the embedded database keeps its files' }),
  EMBEDDED_PG_PORT: port(5433, 'port of the embedded PostgreSQL (npm start without DATABASE_URL)'),
  MQTT_HOST: Type.String({ minLength: 1, default: '0.0.0.0', description: 'address the broker listens on' }),
  MQTT_PORT: port(1883, 'MQTT over TCP'),
  MQTT_WS_PORT: port(8083, 'MQTT over WebSocket'),
  HTTP_PORT: port(3000, 'query API'),
  PUBLIC_HOST: Type.String({ minLength: 1, default: 'localhost', description: 'host name printed in MQTT credentials and URLs' }),
  // The characters a Bearer token may carry (RFC 6750 b64token, what the query API parses): a key with others would
  // be stored and then never match a request.
  FLEET_DEMO_API_KEY: Type.Optional(Type.String({ minLength: 24, maxLength: 256, pattern: '^[A-Za-z0-9._~+/=-]+$', description: 'operator key of the demo tenant (letters, digits and ._~+/=-)' })),
  FLEET_ADMIN_API_KEY: Type.Optional(Type.String({ minLength: 24, maxLength: 256, pattern: '^[A-Za-z0-9._~+/=-]+$', description: 'admin key of the demo tenant (letters, digits and ._~+/=-)' })),
  SIM_VEHICLES: int(0, 100_000, 50, 'simulated vehicles started by npm start (0 for none)'),
  SIM_SEED: Type.String({ minLength: 1, maxLength: 64, default: 'suizhou', description: 'seed of the simulated fleet: the same seed gives the same vehicles and data' }),
  SIM_SPEED: Type.Number({ exclusiveMinimum: 0, maximum: 1_000, default: 1, description: 'simulated seconds per real second of the npm start fleet' }),
  SHUTDOWN_TIMEOUT_S: int(1, 3_600, 30, 'npm start: how long Ctrl-C/SIGTERM waits for in-flight work before it exits anyway (what is not committed was never acknowledged)'),
  LOG_LEVEL: enumOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info', 'pino log level'),

  BROKER_METRICS_PORT: port(9883, 'GET /metrics of the standalone broker (apps/broker)'),
  INGEST_METRICS_PORT: port(9884, 'GET /metrics of a distributed ingestion worker (apps/ingestion)'),
  MQTT_MAX_PACKET_BYTES: int(1024, 64 * 1024 * 1024, 256 * 1024, 'largest MQTT packet; a vehicle\'s larger PUBLISH is dead-lettered in embedded mode, other larger packets close the connection'),
  MQTT_CONNECT_TIMEOUT_MS: int(100, 300_000, 10_000, 'a socket must complete CONNECT within this time'),
  MQTT_MAX_CONNECTIONS: int(1, 1_000_000, 20_000, 'concurrent MQTT connections'),
  MQTT_PUBLISH_RATE: int(1, 1_000_000, 200, 'sustained publishes per second per client (token bucket)'),
  MQTT_PUBLISH_BURST: int(1, 1_000_000, 2_000, 'token bucket size per client'),
  MQTT_KEEPALIVE_MIN_S: int(0, 65_535, 5, 'smallest keepalive a client may ask for (0 = any)'),
  MQTT_KEEPALIVE_MAX_S: int(1, 65_535, 1_200, 'largest keepalive a client may ask for'),
  MQTT_MAX_TOPIC_LEVELS: int(1, 64, 8, 'deepest topic accepted'),
  MQTT_DRAIN_TIMEOUT_MS: int(100, 600_000, 30_000, 'a subscriber that cannot drain this long is disconnected'),
  MQTT_PERSISTENCE: enumOf(['auto', 'memory', 'level'] as const, 'auto', "broker sessions and queued QoS 1 messages: memory, or level (LevelDB on disk, survives restarts); auto = memory embedded, level for the standalone broker"),
  MQTT_PERSISTENCE_DIR: Type.Optional(Type.String({ minLength: 1, description: 'directory of the level broker persistence (default {SPECFLEET_DATA_DIR}/broker)' })),

  TS_MAX_FUTURE_S: int(0, 86_400, 300, 'samples stamped further ahead than this are rejected (TS_IN_FUTURE)'),
  TS_MAX_AGE_DAYS: int(1, 3650, 35, 'samples older than this are rejected (TS_TOO_OLD)'),
  MAX_SAMPLES_PER_MESSAGE: int(1, 10_000, 1_000, 'largest sample array in one message (TOO_MANY_SAMPLES)'),

  INGEST_BATCH_MAX: int(1, 100_000, 2_000, 'samples per database batch'),
  INGEST_BATCH_WAIT_MS: int(0, 10_000, 20, 'longest wait before a partial batch is written'),
  INGEST_MAX_PENDING: int(1, 10_000_000, 50_000, 'samples waiting for a commit before publishers are held back'),
  INGEST_PARTITIONS: int(1, 64, 2, 'vehicle partitions: each batches and commits on its own, in parallel with the others'),
  INGEST_FLUSHES_PER_PARTITION: int(1, 16, 1, 'batch transactions of one partition at the same time'),
  INGEST_MQTT_URL: Type.String({ pattern: '^(mqtts?|wss?)://', default: 'mqtt://localhost:1883', description: 'broker the distributed ingestion workers subscribe to' }),
  INGEST_MQTT_USERNAME: Type.String({ minLength: 1, default: 'ingest', description: 'service account of the ingestion workers' }),
  INGEST_MQTT_PASSWORD: Type.Optional(Type.String({ minLength: 1, description: 'service account secret' })),
  INGEST_CLIENT_ID: Type.Optional(
    Type.String({ minLength: 1, maxLength: 64, description: 'fixed client id (persistent session); default {INGEST_MQTT_USERNAME}:1 (specfleet\'s broker admits {account} or {account}:{worker})' }),
  ),
  INGEST_SHARED_GROUP: Type.String({
    minLength: 1,
    default: 'ingest',
    description: '$share group name; `none` for plain subscriptions (brokers without shared subscriptions, such as specfleet\'s own)',
  }),

  DB_POOL_MAX: int(1, 1_000, 10, 'connections per process'),
  DB_STATEMENT_TIMEOUT_MS: int(100, 3_600_000, 10_000, 'PostgreSQL statement_timeout of every connection'),

  RETENTION_TELEMETRY_DAYS: int(1, 36_500, 400, 'raw telemetry (and its 10-minute energy rows) kept this long'),
  RETENTION_EVENTS_DAYS: int(1, 36_500, 1_100, 'events kept this long'),
  RETENTION_DEAD_LETTERS_DAYS: int(1, 36_500, 30, 'dead letters kept this long'),
  // Query API limits, health thresholds and energy conversion factors. Unset = the documented default of
  // apps/query/src/query.options.ts (one place holds each default, with its source).
  QUERY_OFFLINE_AFTER_S: optNumber(1, 30 * 86_400, 'silent longer than this = offline'),
  QUERY_MAX_RANGE_RAW_S: optNumber(60, 366 * 86_400, 'longest raw telemetry range'),
  QUERY_MAX_RANGE_BUCKETED_DAYS: optNumber(1, 3_660, 'longest bucketed telemetry range'),
  QUERY_MAX_RANGE_EVENTS_DAYS: optNumber(1, 3_660, 'longest events range'),
  QUERY_MAX_RANGE_ENERGY_DAYS: optNumber(1, 3_660, 'longest energy report range'),
  QUERY_MAX_BUCKETS: optNumber(1, 1_000_000, 'most buckets in one telemetry answer'),
  QUERY_PAGE_SIZE_DEFAULT: optNumber(1, 100_000, 'list page size when limit= is not given'),
  QUERY_PAGE_SIZE_MAX: optNumber(1, 100_000, 'largest list page'),
  QUERY_TELEMETRY_PAGE_SIZE_MAX: optNumber(1, 1_000_000, 'largest raw telemetry page'),
  QUERY_METRICS_PUBLIC: Type.Optional(Type.Boolean({ description: 'false: GET /metrics needs an API key' })),
  QUERY_API_KEY_CACHE_S: optNumber(0, 3_600, 'seconds a found API key is remembered (a revocation shows after at most this long); 0 = look up every request'),
  HEALTH_BATTERY_TEMP_WARN_C: optNumber(-60, 250, 'hot pack: warn at or above'),
  HEALTH_BATTERY_TEMP_CRITICAL_C: optNumber(-60, 250, 'hot pack: critical at or above'),
  HEALTH_CELL_IMBALANCE_WARN_V: optNumber(0, 10, 'cell max − min voltage: warn at or above'),
  HEALTH_CELL_IMBALANCE_CRITICAL_V: optNumber(0, 10, 'cell max − min voltage: critical at or above'),
  HEALTH_SOH_WARN_PCT: optNumber(0, 100, 'state of health: warn below'),
  HEALTH_SOH_CRITICAL_PCT: optNumber(0, 100, 'state of health: critical below'),
  HEALTH_SOC_WARN_PCT: optNumber(0, 100, 'battery level: warn below'),
  HEALTH_SOC_CRITICAL_PCT: optNumber(0, 100, 'battery level: critical below'),
  HEALTH_H2_WARN_PCT: optNumber(0, 100, 'hydrogen left, % of tank: warn below'),
  HEALTH_H2_CRITICAL_PCT: optNumber(0, 100, 'hydrogen left, % of tank: critical below'),
  HEALTH_FUEL_WARN_PCT: optNumber(0, 100, 'fuel level: warn below'),
  HEALTH_FUEL_CRITICAL_PCT: optNumber(0, 100, 'fuel level: critical below'),
  HEALTH_OFFLINE_WARN_H: optNumber(0, 100_000, 'offline longer than this: warn'),
  HEALTH_OFFLINE_CRITICAL_H: optNumber(0, 100_000, 'offline longer than this: critical'),
  ENERGY_DIESEL_KWH_PER_L: optNumber(0, 100, 'diesel lower heating value per litre'),
  ENERGY_H2_KWH_PER_KG: optNumber(0, 100, 'hydrogen lower heating value per kg'),
  ENERGY_GRID_KG_CO2_PER_KWH: optNumber(0, 10, 'grid electricity emission factor'),
  ENERGY_DIESEL_KG_CO2_PER_L: optNumber(0, 10, 'diesel combustion emission factor'),
  ENERGY_H2_KG_CO2_PER_KG: optNumber(0, 100, 'hydrogen production emission factor'),
});

export type Config = Readonly<Static<typeof ConfigSchema>>;
