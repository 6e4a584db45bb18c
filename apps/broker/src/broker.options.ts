// Every knob of the broker, with a safe default; main.ts maps the validated environment (@fleet/config) onto it.
import { join } from 'node:path';

/**
 * Where aedes keeps sessions, subscriptions of persistent sessions, QoS 1 messages queued for them, retained messages
 * and wills. 'memory': aedes' default (aedes-persistence), lost on restart — right for embedded mode, where a telemetry
 * PUBLISH is committed to the database before its PUBACK anyway. 'level': LevelDB on disk (aedes-persistence-level
 * over classic-level) in `persistenceDir`, so what is queued for the ingestion workers' persistent sessions survives
 * a broker restart, kill -9 included — distributed mode.
 */
export type BrokerPersistenceKind = 'memory' | 'level';
export const BROKER_PERSISTENCE_KINDS: readonly BrokerPersistenceKind[] = ['memory', 'level'];

export interface BrokerOptions {
  /** Interface both listeners bind to. */
  host: string;
  /** MQTT over TCP; 0 = an ephemeral port. */
  port: number;
  /** MQTT over WebSocket (any path); 0 = an ephemeral port, null = no WebSocket listener. */
  wsPort: number | null;
  /** Largest MQTT packet (fixed header included); a larger one is never buffered whole (see oversizePublish). */
  maxPacketSize: number;
  /**
   * A PUBLISH over maxPacketSize: 'dead_letter' (embedded mode, where the broker's ingest sink stores) hands it to the
   * sink as a stand-in with the start of its payload, which dead-letters it (PAYLOAD_TOO_LARGE) and acknowledges it,
   * and the connection stays open (SPEC §4.3); 'close' closes the connection, as for any other packet over the limit
   * (the standalone broker of distributed mode, which stores nothing itself).
   */
  oversizePublish: 'dead_letter' | 'close';
  /** A socket must complete CONNECT within this time. */
  connectTimeoutMs: number;
  /** Concurrent sockets (TCP + WebSocket); more are closed on accept. */
  maxConnections: number;
  /** Sustained PUBLISH packets per second per client (token bucket refill rate). */
  publishRate: number;
  /** Token bucket size per client: the burst a client may send at once. */
  publishBurst: number;
  /** Over the rate, publishes are delayed (backpressure); when the delay would exceed this, the client is disconnected. */
  publishMaxDelayMs: number;
  /** Keepalive the broker enforces is clamped to [min, max] seconds; a client asking for 0 (none) gets max. */
  keepaliveMinS: number;
  keepaliveMaxS: number;
  /** Deepest topic accepted in PUBLISH/SUBSCRIBE (aedes clamps to 1..100). */
  maxTopicLevels: number;
  /** A subscriber whose socket cannot drain for this long is disconnected, so it cannot stall the rest. */
  drainTimeoutMs: number;
  /** Credential lookups (positive) are cached this long; `invalidateCredentials(id)` drops one at once. */
  credentialCacheTtlMs: number;
  /** Unknown principals are remembered this long, so a flood of bad ids does not reach the registry. */
  credentialNegativeCacheTtlMs: number;
  /** A registry lookup slower than this answers CONNACK 3 (server unavailable). */
  authTimeoutMs: number;
  /** An IngestSink commit slower than this counts as failed: no PUBACK, the connection is closed, the client resends. */
  ingestTimeoutMs: number;
  /** On shutdown, how long in-flight commits may take before the remaining clients are closed anyway. */
  shutdownGraceMs: number;
  /** Packets aedes queues from a client before its CONNECT is processed. */
  queueLimit: number;
  /** aedes persistence: 'memory' (embedded mode) or 'level' (durable, distributed mode). */
  persistence: BrokerPersistenceKind;
  /** Directory of the 'level' persistence (created if missing; one broker process per directory). */
  persistenceDir: string | null;
}

export const DEFAULT_BROKER_OPTIONS: Readonly<BrokerOptions> = Object.freeze({
  host: '0.0.0.0',
  port: 1883,
  wsPort: 8083,
  maxPacketSize: 256 * 1024,
  oversizePublish: 'close',
  connectTimeoutMs: 10_000,
  maxConnections: 20_000,
  publishRate: 200,
  publishBurst: 2_000,
  publishMaxDelayMs: 10_000,
  keepaliveMinS: 5,
  keepaliveMaxS: 1_200,
  maxTopicLevels: 8,
  drainTimeoutMs: 30_000,
  credentialCacheTtlMs: 30_000,
  credentialNegativeCacheTtlMs: 5_000,
  authTimeoutMs: 5_000,
  ingestTimeoutMs: 30_000,
  shutdownGraceMs: 10_000,
  queueLimit: 42,
  persistence: 'memory',
  persistenceDir: null,
});

/** Fills in defaults and rejects values that would disable a limit by accident (NaN, negatives, min > max). */
export function resolveBrokerOptions(partial: Partial<BrokerOptions> = {}): Readonly<BrokerOptions> {
  const options: BrokerOptions = { ...DEFAULT_BROKER_OPTIONS };
  for (const [key, value] of Object.entries(partial) as [keyof BrokerOptions, unknown][]) {
    if (value !== undefined) (options as unknown as Record<string, unknown>)[key] = value;
  }
  const problems: string[] = [];
  const int = (key: keyof BrokerOptions, min: number, max = Number.MAX_SAFE_INTEGER): void => {
    const v = options[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) problems.push(`${key} must be an integer in [${min}, ${max}], got ${String(v)}`);
  };
  int('port', 0, 65_535);
  if (options.wsPort !== null) int('wsPort', 0, 65_535);
  int('maxPacketSize', 64, 268_435_455); // MQTT's own ceiling: 4-byte remaining length
  int('connectTimeoutMs', 1);
  int('maxConnections', 1);
  int('publishBurst', 1);
  int('publishMaxDelayMs', 0);
  int('keepaliveMinS', 0, 65_535);
  int('keepaliveMaxS', 1, 65_535);
  int('maxTopicLevels', 1, 100);
  int('drainTimeoutMs', 1);
  int('credentialCacheTtlMs', 0);
  int('credentialNegativeCacheTtlMs', 0);
  int('authTimeoutMs', 1);
  int('ingestTimeoutMs', 1);
  int('shutdownGraceMs', 0);
  int('queueLimit', 1);
  if (!(options.publishRate > 0) || !Number.isFinite(options.publishRate)) problems.push(`publishRate must be a positive number, got ${options.publishRate}`);
  if (options.keepaliveMinS > options.keepaliveMaxS) problems.push('keepaliveMinS must not exceed keepaliveMaxS');
  if (options.oversizePublish !== 'dead_letter' && options.oversizePublish !== 'close') problems.push(`oversizePublish must be dead_letter or close, got ${String(options.oversizePublish)}`);
  if (!BROKER_PERSISTENCE_KINDS.includes(options.persistence)) problems.push(`persistence must be one of ${BROKER_PERSISTENCE_KINDS.join(', ')}, got ${String(options.persistence)}`);
  if (options.persistence === 'level' && !(typeof options.persistenceDir === 'string' && options.persistenceDir.length > 0)) {
    problems.push("persistenceDir is required with persistence 'level'");
  }
  if (problems.length > 0) throw new RangeError(`invalid broker options:\n  - ${problems.join('\n  - ')}`);
  return Object.freeze(options);
}

/**
 * The environment's MQTT_* settings (libs/config) as broker options; the rest keep their defaults. `mode` decides what
 * MQTT_PERSISTENCE=auto (the default) means: 'memory' in embedded mode, 'level' for the standalone broker of
 * distributed mode. The level directory is MQTT_PERSISTENCE_DIR, or `{SPECFLEET_DATA_DIR}/broker` when unset.
 */
export function brokerOptionsFromConfig(config: {
  MQTT_HOST: string;
  MQTT_PORT: number;
  MQTT_WS_PORT: number;
  MQTT_MAX_PACKET_BYTES: number;
  MQTT_CONNECT_TIMEOUT_MS: number;
  MQTT_MAX_CONNECTIONS: number;
  MQTT_PUBLISH_RATE: number;
  MQTT_PUBLISH_BURST: number;
  MQTT_KEEPALIVE_MIN_S: number;
  MQTT_KEEPALIVE_MAX_S: number;
  MQTT_MAX_TOPIC_LEVELS: number;
  MQTT_DRAIN_TIMEOUT_MS: number;
  MQTT_PERSISTENCE?: 'auto' | BrokerPersistenceKind;
  MQTT_PERSISTENCE_DIR?: string;
  SPECFLEET_DATA_DIR?: string;
}, mode: 'embedded' | 'distributed' = 'embedded'): Partial<BrokerOptions> {
  const chosen = config.MQTT_PERSISTENCE ?? 'auto';
  const persistence: BrokerPersistenceKind = chosen === 'auto' ? (mode === 'distributed' ? 'level' : 'memory') : chosen;
  return {
    persistence,
    persistenceDir: persistence === 'level' ? (config.MQTT_PERSISTENCE_DIR ?? join(config.SPECFLEET_DATA_DIR ?? './.data', 'broker')) : null,
    host: config.MQTT_HOST,
    port: config.MQTT_PORT,
    wsPort: config.MQTT_WS_PORT,
    maxPacketSize: config.MQTT_MAX_PACKET_BYTES,
    oversizePublish: mode === 'embedded' ? 'dead_letter' : 'close',
    connectTimeoutMs: config.MQTT_CONNECT_TIMEOUT_MS,
    maxConnections: config.MQTT_MAX_CONNECTIONS,
    publishRate: config.MQTT_PUBLISH_RATE,
    publishBurst: config.MQTT_PUBLISH_BURST,
    keepaliveMinS: config.MQTT_KEEPALIVE_MIN_S,
    keepaliveMaxS: config.MQTT_KEEPALIVE_MAX_S,
    maxTopicLevels: config.MQTT_MAX_TOPIC_LEVELS,
    drainTimeoutMs: config.MQTT_DRAIN_TIMEOUT_MS,
  };
}
