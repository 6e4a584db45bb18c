// Rotating a vehicle's secret through the API (embedded mode) takes effect at once: the broker forgets the cached
// old secret, closes the session opened with it, and accepts only the new one.
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger, loadConfig } from '@fleet/config';
import { ApiKeyRepository, TenantRepository } from '@fleet/db';
import { ensureApiKey } from '../../apps/query/src/auth/api-key-admin.js';
import { startStack, type Stack } from '../../apps/specfleet/src/stack.js';
import { createTestDatabase, describeEachBackend, type TestDatabase } from '../setup/database.js';

const ADMIN_KEY = 'sfk_rotation-test-admin-key-0123456789abcdef';

describeEachBackend('credential rotation in embedded mode', (backend) => {
  let database: TestDatabase;
  let stack: Stack;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    await new TenantRepository(database.db).upsert({ id: 'rot', name: 'rotation' });
    await ensureApiKey(new ApiKeyRepository(database.db), 'rot', 'admin', ADMIN_KEY, 'test admin');
    const config = loadConfig({ HTTP_PORT: '0', MQTT_PORT: '0', MQTT_WS_PORT: '0', LOG_LEVEL: 'silent' });
    stack = await startStack({ config, databaseUrl: database.url, logger: createLogger('test', 'silent') });
  });
  afterAll(async () => {
    await stack?.stop();
    await database?.drop();
  });

  const api = async (path: string, body?: unknown): Promise<{ status: number; json: any }> => {
    const response = await fetch(`http://127.0.0.1:${stack.httpPort}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? '{}' : JSON.stringify(body),
    });
    return { status: response.status, json: await response.json() };
  };
  const connect = (id: string, password: string) =>
    mqtt.connectAsync(`mqtt://127.0.0.1:${stack.mqttPort}`, { clientId: id, username: id, password, reconnectPeriod: 0, connectTimeout: 5_000 });

  it('refuses the old secret and closes its session as soon as the API rotated it', async () => {
    const created = await api('/api/v1/vehicles', { id: 'ROT-0001', type: 'delivery_van', body_type: 'none', powertrain: 'bev' });
    expect(created.status).toBe(201);
    const oldSecret: string = created.json.mqtt.password;

    const session = await connect('ROT-0001', oldSecret); // also puts the old secret in the broker's cache
    const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));

    const rotated = await api('/api/v1/vehicles/ROT-0001/credentials');
    expect(rotated.status).toBe(200);
    const newSecret: string = rotated.json.mqtt.password;
    expect(newSecret).not.toBe(oldSecret);

    // The session opened with the old secret is gone (bounded: without the hook it would stay open).
    await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('old session still open after 5 s')), 5_000))]);
    await expect(connect('ROT-0001', oldSecret)).rejects.toThrow(/Bad username or password|Not authorized/i);
    const fresh = await connect('ROT-0001', newSecret);
    expect(fresh.connected).toBe(true);
    await fresh.endAsync();
    session.end(true);
  });
});
