// When the database cannot be reached, or the server is shutting down, the query API answers 503 unavailable in the
// error format (SPEC §5): a retryable outage, not a 500 "internal" that reads as a bug.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '@fleet/config';
import { createDatabase } from '../../../libs/db/src/index.js';
import { createQueryApp } from '../../../apps/query/src/query.app.js';
import { describeEachBackend } from '../../setup/database.js';
import { type QueryHarness, seedVehicle, startQueryHarness } from './harness.js';

const unavailable = { error: { code: 'unavailable', message: expect.any(String) } };

describeEachBackend('query API without its database', (backend) => {
  let h: QueryHarness;
  beforeAll(async () => {
    h = await startQueryHarness(backend);
    await seedVehicle(h.database, { id: 'V-1' });
  });
  afterAll(async () => h?.close());

  it('answers 503 unavailable when the database refuses connections', async () => {
    // Port 1 on loopback: nothing listens, so every connect is ECONNREFUSED (the key lookup is the first query).
    const refused = createDatabase('postgres://postgres@127.0.0.1:1/none', { max: 1 });
    const app = await createQueryApp({ db: refused.db, logger: createLogger('query-test', 'silent'), options: {} });
    try {
      await app.init();
      const r = await app.inject({ method: 'GET', url: '/api/v1/fleet/status', headers: { authorization: `Bearer ${h.keys.acme.operator}` } });
      expect(r.statusCode).toBe(503);
      expect(r.json()).toEqual(unavailable);
      expect(r.body).not.toContain('127.0.0.1');
    } finally {
      await app.close();
      await refused.close();
    }
  });

  it('answers /health/ready with check names and ok/down only, logging why a check failed instead of answering it', async () => {
    const refused = createDatabase('postgres://postgres@127.0.0.1:1/none', { max: 1 });
    const logged: Array<{ obj: unknown; msg: unknown }> = [];
    const record = (obj: unknown, msg?: unknown) => void logged.push({ obj, msg });
    const logger = { warn: record, error: record, info: record, debug: record, trace: record, fatal: record, child: () => logger } as unknown as Parameters<typeof createQueryApp>[0]['logger'];
    const readiness = {
      broker: async () => {
        throw new Error('connect ECONNREFUSED 10.20.30.40:1883 (password authentication failed for user "fleet")');
      },
    };
    const app = await createQueryApp({ db: refused.db, logger, readiness, options: {} });
    try {
      await app.init();
      const r = await app.inject({ method: 'GET', url: '/health/ready' });
      expect(r.statusCode).toBe(503);
      expect(r.json()).toEqual({ status: 'unavailable', checks: { database: 'down', broker: 'down' } });
      for (const secret of ['127.0.0.1', '10.20.30.40', 'ECONNREFUSED', 'password', 'fleet']) expect(r.body).not.toContain(secret);
      // The operator still learns why, from the log.
      const text = JSON.stringify(logged.map(({ obj, msg }) => ({ msg, check: (obj as { check?: unknown }).check, err: String((obj as { err?: unknown }).err) })));
      expect(text).toContain('10.20.30.40:1883');
      expect(text).toContain('"check":"database"');
    } finally {
      await app.close();
      await refused.close();
    }
    // A healthy database is still "ok".
    const ok = await h.request('GET', '/health/ready');
    expect(ok.body).toEqual({ status: 'ok', checks: { database: 'ok' } });
  });

  it('answers 503 unavailable once the pool is gone, for a caller whose key is cached', async () => {
    const own = createDatabase(h.database.url, { max: 2 });
    const app = await createQueryApp({ db: own.db, logger: createLogger('query-test', 'silent'), options: {} });
    try {
      await app.init();
      const get = () => app.inject({ method: 'GET', url: '/api/v1/fleet/status', headers: { authorization: `Bearer ${h.keys.acme.operator}` } });
      expect((await get()).statusCode).toBe(200); // caches the key
      await own.close();
      const r = await get();
      expect(r.statusCode).toBe(503);
      expect(r.json()).toEqual(unavailable);
    } finally {
      await app.close();
    }
  });

  it('answers 503 unavailable in the error format to a request arriving while the server drains', async () => {
    const app = await createQueryApp({ db: h.database.db, logger: createLogger('query-test', 'silent'), options: {} });
    // Holds close() after it started (routes closed, app's own preClose run) until the test has sent its request.
    let closeStarted!: () => void;
    const started = new Promise<void>((resolve) => (closeStarted = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    app.getHttpAdapter().getInstance().addHook('preClose', (done) => {
      closeStarted();
      void released.then(() => done());
    });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: '/api/v1/fleet/status', agent, headers: { authorization: `Bearer ${h.keys.acme.operator}` } }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (body += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          })
          .on('error', reject);
      });
    try {
      expect((await get()).status).toBe(200); // opens the keep-alive connection the next request reuses
      const closing = app.close();
      await started;
      const r = await get();
      expect(r.status).toBe(503);
      expect(JSON.parse(r.body)).toEqual(unavailable);
      release();
      await closing;
    } finally {
      release();
      agent.destroy();
    }
  });
});
