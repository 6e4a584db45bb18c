// The query service as its own process (distributed mode, docker-compose): it seeds the demo tenant's keys from
// FLEET_DEMO_API_KEY / FLEET_ADMIN_API_KEY and answers with them; without DATABASE_URL it refuses to start.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeEachBackend, type TestDatabase } from '../setup/database.js';
import { startProcess } from '../support/process.js';

const OPERATOR_KEY = 'sfk_standalone-query-operator-key-000000000';
const ADMIN_KEY = 'sfk_standalone-query-admin-key-00000000000000';

describeEachBackend('query service process', (backend) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(backend);
  });
  afterAll(async () => database?.drop());

  it('answers with the demo keys it was given, and not without a key', async () => {
    const run = startProcess('apps/query/src/main.ts', {
      DATABASE_URL: database.url,
      HTTP_PORT: '0',
      FLEET_DEMO_API_KEY: OPERATOR_KEY,
      FLEET_ADMIN_API_KEY: ADMIN_KEY,
      INGEST_MQTT_URL: 'mqtt://127.0.0.1:1',
    });
    try {
      const [, port] = await run.waitFor(/"port":(\d+),"msg":"query API listening"/, 60_000);
      const status = (key?: string) =>
        fetch(`http://127.0.0.1:${port}/api/v1/fleet/status`, key ? { headers: { authorization: `Bearer ${key}` } } : {}).then((r) => r.status);
      expect(await status(OPERATOR_KEY)).toBe(200);
      expect(await status(ADMIN_KEY)).toBe(200);
      expect(await status()).toBe(401);
      // Readiness names the broker it cannot reach (nothing listens on port 1).
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { checks: Record<string, string> }).checks.database).toBe('ok');
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  });
});

it('refuses to start without DATABASE_URL, naming it', async () => {
  const run = startProcess('apps/query/src/main.ts', { DATABASE_URL: '', HTTP_PORT: '0' });
  expect(await run.exited).toBe(78);
  expect(run.output()).toContain('DATABASE_URL is required');
});
