// Reads the environment once, converts and checks it against ConfigSchema, and returns a frozen object.
// The only module of specfleet that touches process.env.
import Value from 'typebox/value';
import { type Config, ConfigSchema } from './config.schema.js';

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Converts and validates `env` (default: process.env); throws ConfigError naming every bad variable. */
export function loadConfig(env: Env = process.env, overrides: Partial<Record<keyof Config, string>> = {}): Config {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.properties)) {
    const value = overrides[key as keyof Config] ?? env[key];
    // An empty variable means "unset", as shells and compose files commonly write it.
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const problems: string[] = [];
  const seen = new Set<string>();
  // Integers as plain decimal digits: conversion would read 1883.5 as 1883 and 0x75b as 1883, silently.
  for (const [name, value] of Object.entries(raw)) {
    const schema = (ConfigSchema.properties as Record<string, { type?: unknown }>)[name];
    if (schema?.type === 'integer' && typeof value === 'string' && !/^-?\d+$/.test(value.trim())) {
      seen.add(name);
      problems.push(describe(name, value, 'must be an integer written in decimal digits'));
    }
  }
  const converted = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, raw)) as Record<string, unknown>;
  for (const error of Value.Errors(ConfigSchema, converted)) {
    const name = error.instancePath.replace(/^\//, '');
    if (seen.has(name)) continue; // a union reports once per branch; one line per variable is enough
    seen.add(name);
    problems.push(describe(name, raw[name], error.message));
  }
  // URLs must parse, not only start with their scheme: `postgres://u:pa/ss@h/db` or a port of 70000 passed the
  // pattern and then failed at first use with a stack trace, which carried the whole URL (password included).
  for (const name of ['DATABASE_URL', 'INGEST_MQTT_URL'] as const) {
    const value = converted[name];
    if (seen.has(name) || typeof value !== 'string' || URL.canParse(value)) continue;
    seen.add(name);
    problems.push(describe(name, value, 'must be a URL that parses (scheme://user:password@host:port/path; percent-encode / @ : in the password)'));
  }
  // Across variables. The keepalive bounds must not cross (a client's keepalive is clamped into [min, max]).
  const keepaliveMin = converted['MQTT_KEEPALIVE_MIN_S'];
  const keepaliveMax = converted['MQTT_KEEPALIVE_MAX_S'];
  if (problems.length === 0 && typeof keepaliveMin === 'number' && typeof keepaliveMax === 'number' && keepaliveMin > keepaliveMax) {
    problems.push(`MQTT_KEEPALIVE_MIN_S: must not exceed MQTT_KEEPALIVE_MAX_S (${keepaliveMax}), got ${keepaliveMin}`);
  }
  // One key cannot be both: the second role would be skipped (a key is stored once), and the printed admin key get 403.
  if (problems.length === 0 && converted['FLEET_DEMO_API_KEY'] !== undefined && converted['FLEET_DEMO_API_KEY'] === converted['FLEET_ADMIN_API_KEY']) {
    problems.push('FLEET_ADMIN_API_KEY: must differ from FLEET_DEMO_API_KEY (one key has one role: operator or admin), got the same value (hidden)');
  }
  // What ingestion still accepts (TS_MAX_AGE_DAYS) retention must keep: raw telemetry, or a late sample for an hour
  // whose raw rows retention already dropped makes ingestion recompute that hour's energy from what is left, and
  // shrink it; events, or an event accepted as a late backfill is deleted by the next pass.
  const maxAgeDays = converted['TS_MAX_AGE_DAYS'];
  for (const [name, why] of [
    ['RETENTION_TELEMETRY_DAYS', 'raw telemetry must outlive the oldest sample still accepted, or a late sample recomputes an hour\'s energy from rows retention dropped'],
    ['RETENTION_EVENTS_DAYS', 'an event old enough to be accepted would be deleted by the next retention pass'],
  ] as const) {
    const days = converted[name];
    if (problems.length === 0 && typeof days === 'number' && typeof maxAgeDays === 'number' && days <= maxAgeDays) {
      problems.push(`${name}: must be greater than TS_MAX_AGE_DAYS (${maxAgeDays}), got ${days} — ${why}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(converted) as Config;
}

function describe(name: string, given: unknown, message: string): string {
  const schema = (ConfigSchema.properties as Record<string, { allowed?: readonly string[]; description?: string }>)[name];
  const expected = schema?.allowed ? `one of ${schema.allowed.join(', ')}` : message;
  // Secrets are never echoed back.
  const shown = /KEY|PASSWORD|URL/.test(name) ? '(value hidden)' : JSON.stringify(given);
  return `${name}: ${expected}, got ${shown}${schema?.description ? ` — ${schema.description}` : ''}`;
}

/** Loads the configuration or ends the process with a message naming the bad variables (exit code 78, EX_CONFIG). */
export function loadConfigOrExit(service: string): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${service}: ${error.message}\n`);
    process.exit(78);
  }
}

/** Variables that name a port a specfleet process listens on. */
const LISTEN_PORTS = ['MQTT_PORT', 'MQTT_WS_PORT', 'HTTP_PORT', 'BROKER_METRICS_PORT', 'INGEST_METRICS_PORT'] as const;

/**
 * A port that cannot be listened on (in use: another broker on 1883, say; or privileged), as one line that names the
 * variable to change, instead of a stack trace; undefined for any other error.
 */
export function describeListenError(error: unknown, config: Config): string | undefined {
  const e = error as { code?: unknown; port?: unknown; address?: unknown } | null;
  if (!e || typeof e !== 'object' || !['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL'].includes(String(e.code)) || typeof e.port !== 'number') return undefined;
  const names = LISTEN_PORTS.filter((name) => config[name] === e.port);
  const variable = names.length > 0 ? names.join(' / ') : 'a port variable';
  const where = `${typeof e.address === 'string' ? e.address : 'this host'}:${e.port}`;
  const why =
    e.code === 'EADDRINUSE'
      ? `${where} is already in use (another broker or server?)`
      : e.code === 'EACCES'
        ? `${where} needs privileges this process does not have`
        : `${where} is not an address of this machine (MQTT_HOST?)`;
  return `${variable}: ${why}; set ${names[0] ?? 'it'} to a free port, or 0 for any free port`;
}
