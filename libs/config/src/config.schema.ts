// The environment of every specfleet process (SPEC §7): one schema gives the defaults, the conversion from
// strings, the checks and the TypeScript type, so a bad value is refused at start-up, never at first use.
import Type, { type Static } from 'typebox';

const port = (defaultPort: number, description: string) =>
  Type.Integer({ minimum: 0, maximum: 65535, default: defaultPort, description });
const int = (min: number, max: number, defaultValue: number, description: string) =>
  Type.Integer({ minimum: min, maximum: max, default: defaultValue, description });
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
  FLEET_DEMO_API_KEY: Type.Optional(Type.String({ minLength: 24, maxLength: 256, description: 'operator key of the demo tenant' })),
  FLEET_ADMIN_API_KEY: Type.Optional(Type.String({ minLength: 24, maxLength: 256, description: 'admin key of the demo tenant' })),
  SIM_VEHICLES: int(0, 100_000, 50, 'simulated vehicles started by npm start (0 for none)'),
  LOG_LEVEL: enumOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info', 'pino log level'),

  MQTT_MAX_PACKET_BYTES: int(1024, 64 * 1024 * 1024, 256 * 1024, 'largest MQTT packet accepted; larger ones close the connection'),
  MQTT_CONNECT_TIMEOUT_MS: int(100, 300_000, 10_000, 'a socket must complete CONNECT within this time'),
  MQTT_MAX_CONNECTIONS: int(1, 1_000_000, 20_000, 'concurrent MQTT connections'),
  MQTT_PUBLISH_RATE: int(1, 1_000_000, 200, 'sustained publishes per second per client (token bucket)'),
  MQTT_PUBLISH_BURST: int(1, 1_000_000, 2_000, 'token bucket size per client'),
  MQTT_KEEPALIVE_MIN_S: int(0, 65_535, 5, 'smallest keepalive a client may ask for (0 = any)'),
  MQTT_KEEPALIVE_MAX_S: int(1, 65_535, 1_200, 'largest keepalive a client may ask for'),
  MQTT_MAX_TOPIC_LEVELS: int(1, 64, 8, 'deepest topic accepted'),
  MQTT_DRAIN_TIMEOUT_MS: int(100, 600_000, 30_000, 'a subscriber that cannot drain this long is disconnected'),

  TS_MAX_FUTURE_S: int(0, 86_400, 300, 'samples stamped further ahead than this are rejected (TS_IN_FUTURE)'),
  TS_MAX_AGE_DAYS: int(1, 3650, 35, 'samples older than this are rejected (TS_TOO_OLD)'),
  MAX_SAMPLES_PER_MESSAGE: int(1, 10_000, 1_000, 'largest sample array in one message (TOO_MANY_SAMPLES)'),

  INGEST_BATCH_MAX: int(1, 100_000, 2_000, 'samples per database batch'),
  INGEST_BATCH_WAIT_MS: int(0, 10_000, 20, 'longest wait before a partial batch is written'),
  INGEST_MAX_PENDING: int(1, 10_000_000, 50_000, 'samples waiting for a commit before publishers are held back'),
  INGEST_MQTT_URL: Type.String({ pattern: '^(mqtts?|wss?)://', default: 'mqtt://localhost:1883', description: 'broker the distributed ingestion workers subscribe to' }),
  INGEST_MQTT_USERNAME: Type.String({ minLength: 1, default: 'ingest', description: 'service account of the ingestion workers' }),
  INGEST_MQTT_PASSWORD: Type.Optional(Type.String({ minLength: 1, description: 'service account secret' })),
  INGEST_CLIENT_ID: Type.String({ minLength: 1, maxLength: 64, default: 'specfleet-ingest-1', description: 'fixed client id (persistent session)' }),
  INGEST_SHARED_GROUP: Type.String({ default: 'ingest', description: "$share group name; empty for plain subscriptions (brokers without shared subscriptions)" }),

  DB_POOL_MAX: int(1, 1_000, 10, 'connections per process'),
  DB_STATEMENT_TIMEOUT_MS: int(100, 3_600_000, 10_000, 'PostgreSQL statement_timeout of every connection'),

  RETENTION_TELEMETRY_DAYS: int(1, 36_500, 400, 'raw telemetry kept this long'),
  RETENTION_EVENTS_DAYS: int(1, 36_500, 1_100, 'events kept this long'),
  RETENTION_DEAD_LETTERS_DAYS: int(1, 36_500, 30, 'dead letters kept this long'),
});

export type Config = Readonly<Static<typeof ConfigSchema>>;
