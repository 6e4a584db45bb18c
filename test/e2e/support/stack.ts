// What the in-process end-to-end tests share: the embedded stack (startStack) on a test database, tenants with API
// keys, a small HTTP client for the query API, vehicles as real MQTT.js clients, and polling with a deadline.
import { createServer } from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { createLogger, loadConfig } from '@fleet/config';
import { ApiKeyRepository, TenantRepository } from '@fleet/db';
import { ensureApiKey } from '../../../apps/query/src/auth/api-key-admin.js';
import { generateApiKey } from '../../../apps/query/src/auth/api-key.js';
import { type Stack, startStack } from '../../../apps/specfleet/src/stack.js';
import type { TestDatabase } from '../../setup/database.js';

export type { Stack } from '../../../apps/specfleet/src/stack.js';

/** The embedded stack on `database`, on ephemeral ports unless `env` says otherwise. */
export async function startTestStack(database: TestDatabase, env: Record<string, string> = {}): Promise<Stack> {
  const config = loadConfig({ HTTP_PORT: '0', MQTT_PORT: '0', MQTT_WS_PORT: '0', LOG_LEVEL: 'warn', SIM_VEHICLES: '0', ...env });
  return startStack({ config, databaseUrl: database.url, logger: createLogger('specfleet-e2e', config.LOG_LEVEL) });
}

export interface TenantKeys {
  operator: string;
  admin: string;
}

/** A tenant with a fresh operator key and admin key. */
export async function seedTenant(database: TestDatabase, id: string): Promise<TenantKeys> {
  await new TenantRepository(database.db).upsert({ id, name: `${id} (e2e)` });
  const keys = new ApiKeyRepository(database.db);
  const operator = generateApiKey();
  const admin = generateApiKey();
  await ensureApiKey(keys, id, 'operator', operator, `${id} operator (e2e)`);
  await ensureApiKey(keys, id, 'admin', admin, `${id} admin (e2e)`);
  return { operator, admin };
}

export interface ApiAnswer {
  status: number;
  /** Parsed JSON (checked field by field in the tests), or the text when it is not JSON. */
  body: any;
}

export interface Api {
  readonly url: string;
  request(method: 'GET' | 'POST', path: string, key?: string, body?: unknown): Promise<ApiAnswer>;
  /** GET that must answer 200; returns the body. */
  get<T = any>(path: string, key: string): Promise<T>;
}

export function apiClient(httpPort: number): Api {
  const url = `http://127.0.0.1:${httpPort}`;
  const request = async (method: 'GET' | 'POST', path: string, key?: string, body?: unknown): Promise<ApiAnswer> => {
    const headers: Record<string, string> = {};
    if (key) headers.authorization = `Bearer ${key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: response.status, body: parsed };
  };
  return {
    url,
    request,
    async get(path, key) {
      const answer = await request('GET', path, key);
      if (answer.status !== 200) throw new Error(`GET ${path}: HTTP ${answer.status} ${JSON.stringify(answer.body).slice(0, 500)}`);
      return answer.body;
    },
  };
}

export interface ProvisionedVehicle {
  id: string;
  password: string;
  mqtt: { host: string; port: number; username: string; password: string; client_id: string };
}

/** POST /api/v1/vehicles with an admin key; throws unless 201. */
export async function provision(api: Api, adminKey: string, body: Record<string, unknown> & { id: string }): Promise<ProvisionedVehicle> {
  const answer = await api.request('POST', '/api/v1/vehicles', adminKey, body);
  if (answer.status !== 201) throw new Error(`provisioning ${body.id}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
  return { id: body.id, password: answer.body.mqtt.password, mqtt: answer.body.mqtt };
}

export const statusWill = (vehicleId: string): NonNullable<IClientOptions['will']> => ({
  topic: `fleet/${vehicleId}/status`,
  payload: Buffer.from('{"v":1,"online":false}'),
  qos: 1,
  retain: true,
});

/** A vehicle as firmware connects it: client id = username = vehicle id, QoS 1, a retained Last Will; no auto-reconnect. */
export async function connectVehicle(mqttPort: number, vehicle: { id: string; password: string }, options: Partial<IClientOptions> = {}): Promise<MqttClient> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
    clientId: vehicle.id,
    username: vehicle.id,
    password: vehicle.password,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    will: statusWill(vehicle.id),
    ...options,
  });
  client.on('error', () => undefined);
  return client;
}

/** Publishes at QoS 1 and resolves on the PUBACK (which, in embedded mode, means committed). */
export async function publish(client: MqttClient, topic: string, payload: unknown): Promise<void> {
  await client.publishAsync(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), { qos: 1 });
}

/**
 * Polls `probe` until it returns without throwing, or rethrows its last failure once `timeoutMs` has passed since the
 * call. Used with a 1 s deadline right after a PUBACK: the data is committed by then, so it should pass at once.
 */
export async function within<T>(timeoutMs: number, probe: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await probe();
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** A TCP port that was free a moment ago (for a broker that must come back on the same port). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
