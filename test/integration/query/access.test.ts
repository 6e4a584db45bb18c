// Access matrix of the query API (SPEC §4.6, §5): no key 401, unknown or revoked key 401, operator provisioning
// 403, another tenant's vehicle 404 on every vehicle endpoint, and no list ever shows another tenant's rows.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '@fleet/config';
import { ApiKeyRepository } from '../../../libs/db/src/index.js';
import { digestOf, generateApiKey, keyPrefix } from '../../../apps/query/src/auth/api-key.js';
import { createQueryApp } from '../../../apps/query/src/query.app.js';
import { describeEachBackend } from '../../setup/database.js';
import { type QueryHarness, seedState, seedVehicle, startQueryHarness } from './harness.js';

describeEachBackend('query API access', (backend) => {
  let h: QueryHarness;
  beforeAll(async () => {
    h = await startQueryHarness(backend);
    await seedVehicle(h.database, { id: 'ACME-1' });
    await seedVehicle(h.database, { id: 'OTHER-1', tenantId: 'other', type: 'delivery_van', bodyType: 'none' });
    const now = new Date();
    await seedState(h.database, { vehicle_id: 'ACME-1', connected: true, last_received_at: now, last_ts: now, active_alarms: { SOC_LOW: { level: 2, since: now.toISOString(), message: null } }, alarm_max_level: 2 });
    await seedState(h.database, { vehicle_id: 'OTHER-1', tenant_id: 'other', connected: true, last_received_at: now, last_ts: now, active_alarms: { H2_LEAK: { level: 3, since: now.toISOString(), message: null } }, alarm_max_level: 3 });
  });
  afterAll(async () => h?.close());

  const reads = ['/api/v1/vehicles', '/api/v1/fleet/status', '/api/v1/fleet/health', '/api/v1/alarms', '/api/v1/energy', '/api/v1/vehicles/ACME-1', '/api/v1/vehicles/ACME-1/telemetry', '/api/v1/vehicles/ACME-1/events'];

  it('answers 401 with the error format without a key, with an unknown key and with a revoked key', async () => {
    for (const url of reads) {
      for (const key of [undefined, 'sfk_this-key-does-not-exist-anywhere', h.keys.acme.revoked]) {
        const r = await h.request('GET', url, key);
        expect(r.status, `${url} with ${key ? 'bad key' : 'no key'}`).toBe(401);
        expect(r.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
      }
    }
    expect((await h.request('POST', '/api/v1/vehicles', undefined, { id: 'X-1', type: 'road_sweeper', body_type: 'sweeper', powertrain: 'bev' })).status).toBe(401);
  });

  it('lets an operator read and refuses provisioning and rotation with 403', async () => {
    for (const url of reads) expect((await h.request('GET', url, h.keys.acme.operator)).status, url).toBe(200);
    const create = await h.request('POST', '/api/v1/vehicles', h.keys.acme.operator, { id: 'X-1', type: 'road_sweeper', body_type: 'sweeper', powertrain: 'bev' });
    expect(create.status).toBe(403);
    expect(create.body.error.code).toBe('forbidden');
    expect((await h.request('POST', '/api/v1/vehicles/ACME-1/credentials', h.keys.acme.operator)).status).toBe(403);
  });

  it("answers 404 for another tenant's vehicle on every vehicle endpoint", async () => {
    for (const path of ['', '/telemetry', '/events']) {
      const r = await h.request('GET', `/api/v1/vehicles/OTHER-1${path}`, h.keys.acme.operator);
      expect(r.status, path).toBe(404);
      expect(r.body.error.code).toBe('not_found');
    }
    expect((await h.request('POST', '/api/v1/vehicles/OTHER-1/credentials', h.keys.acme.admin)).status).toBe(404);
    // The owner sees it.
    expect((await h.request('GET', '/api/v1/vehicles/OTHER-1', h.keys.other.operator)).status).toBe(200);
  });

  it("never lists another tenant's rows", async () => {
    const vehicles = await h.request('GET', '/api/v1/vehicles', h.keys.acme.operator);
    expect(vehicles.body.items.map((v: { id: string }) => v.id)).toEqual(['ACME-1']);
    const status = await h.request('GET', '/api/v1/fleet/status', h.keys.acme.operator);
    expect(status.body.items.map((v: { id: string }) => v.id)).toEqual(['ACME-1']);
    expect(status.body.counts.total).toBe(1);
    const health = await h.request('GET', '/api/v1/fleet/health', h.keys.acme.operator);
    expect(health.body.items.map((v: { vehicle_id: string }) => v.vehicle_id)).toEqual(['ACME-1']);
    expect(health.body.alarms.by_code.map((a: { code: string }) => a.code)).toEqual(['SOC_LOW']);
    const alarms = await h.request('GET', '/api/v1/alarms', h.keys.acme.operator);
    expect(alarms.body.items).toEqual([expect.objectContaining({ vehicle_id: 'ACME-1', code: 'SOC_LOW', level: 2 })]);
    const energy = await h.request('GET', '/api/v1/energy?group_by=vehicle', h.keys.acme.operator);
    expect(energy.body.items.map((r: { key: string }) => r.key)).toEqual(['ACME-1']);
  });

  it('provisions a vehicle with MQTT credentials once, refuses a taken id, and rotates the secret', async () => {
    const body = { id: 'ACME-NEW', type: 'garbage_compactor', body_type: 'compactor', powertrain: 'fcev', h2_capacity_kg: 25, report_interval_s: 5 };
    const created = await h.request('POST', '/api/v1/vehicles', h.keys.acme.admin, body);
    expect(created.status).toBe(201);
    expect(created.body.vehicle).toMatchObject({ id: 'ACME-NEW', type: 'garbage_compactor', powertrain: 'fcev', h2_capacity_kg: 25, report_interval_s: 5 });
    expect(created.body.mqtt).toMatchObject({ username: 'ACME-NEW', client_id: 'ACME-NEW', host: expect.any(String), port: expect.any(Number) });
    expect(created.body.mqtt.password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(created.headers['cache-control']).toBe('no-store'); // the password, shown once, is cached nowhere
    const got = await h.request('GET', '/api/v1/vehicles/ACME-NEW', h.keys.acme.operator);
    expect(JSON.stringify(got.body)).not.toContain(created.body.mqtt.password);

    const taken = await h.request('POST', '/api/v1/vehicles', h.keys.acme.admin, { ...body, id: 'OTHER-1' });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('vehicle_exists');

    const rotated = await h.request('POST', '/api/v1/vehicles/ACME-NEW/credentials', h.keys.acme.admin);
    expect(rotated.status).toBe(200);
    expect(rotated.body.mqtt.password).not.toBe(created.body.mqtt.password);
    expect(rotated.headers['cache-control']).toBe('no-store');

    const bad = await h.request('POST', '/api/v1/vehicles', h.keys.acme.admin, { ...body, id: 'bad/id' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_body');
  });

  it('serves health, metrics and the OpenAPI document without a key', async () => {
    expect((await h.request('GET', '/health/live')).body).toEqual({ status: 'ok' });
    const ready = await h.request('GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.database).toBe('ok');
    const metrics = await h.request('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(String(metrics.body)).toContain('specfleet_http_requests_total');
    const doc = await h.request('GET', '/docs/json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/api/v1/fleet/status', '/api/v1/fleet/health', '/api/v1/energy', '/api/v1/vehicles', '/api/v1/vehicles/{id}', '/api/v1/vehicles/{id}/credentials', '/api/v1/vehicles/{id}/telemetry', '/api/v1/vehicles/{id}/events', '/api/v1/alarms']));
    expect(doc.body.paths['/api/v1/energy'].get.parameters.find((p: { name: string }) => p.name === 'group_by').schema.enum).toEqual(['vehicle', 'type', 'body_type', 'powertrain', 'day']);
    // Every route that reads the database documents its 503 (timeout / unavailable); the public liveness probe does not.
    expect(Object.keys(doc.body.paths['/api/v1/energy'].get.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '503']));
    expect(doc.body.paths['/api/v1/energy'].get.responses['503'].description).toMatch(/timeout .* unavailable/);
    expect(doc.body.paths['/health/live'].get.responses['503']).toBeUndefined();
    // Provisioning documents what it answers besides 201: a taken id, and a body too large or not JSON.
    expect(Object.keys(doc.body.paths['/api/v1/vehicles'].post.responses).sort()).toEqual(['201', '400', '401', '403', '409', '413', '415', '503']);
    expect(Object.keys(doc.body.paths['/api/v1/vehicles/{id}/credentials'].post.responses).sort()).toEqual(['200', '400', '401', '403', '404', '503']);
    const ui = await h.request('GET', '/docs');
    expect([200, 302]).toContain(ui.status);
  });

  it('answers a malformed or oversized body with 4xx in the error format, never a 500', async () => {
    const send = (payload: string, type = 'application/json') =>
      h.app.inject({ method: 'POST', url: '/api/v1/vehicles', headers: { authorization: `Bearer ${h.keys.acme.admin}`, 'content-type': type }, payload });
    const malformed = await send('{"id": ');
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('invalid_body');
    const huge = await send(JSON.stringify({ id: 'X', pad: 'x'.repeat(100_000) }));
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error.code).toBe('payload_too_large');
    const text = await send('id=X', 'text/plain'); // parsed as a string, which is not the expected object
    expect(text.statusCode).toBe(400);
    expect(text.json().error.code).toBe('invalid_body');
    const xml = await send('<vehicle/>', 'application/xml');
    expect(xml.statusCode).toBe(415);
    expect(xml.json()).toEqual({ error: { code: 'unsupported_media_type', message: expect.any(String) } });
  });

  it('checks the key and its role before the body: 401/403 whatever the body, its size or its media type', async () => {
    const send = (key: string | undefined, payload: string, type = 'application/json', url = '/api/v1/vehicles') =>
      h.app.inject({ method: 'POST', url, headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), 'content-type': type }, payload });
    const bodies: Array<[string, string, string?]> = [
      ['malformed JSON', '{"id": '],
      ['100 KB body', JSON.stringify({ id: 'X', pad: 'x'.repeat(100_000) })],
      ['text/xml', '<vehicle/>', 'text/xml'],
    ];
    for (const [what, payload, type] of bodies) {
      for (const key of [undefined, 'sfk_this-key-does-not-exist-anywhere', h.keys.acme.revoked]) {
        const r = await send(key, payload, type);
        expect({ what, key, status: r.statusCode, body: r.json() }).toEqual({ what, key, status: 401, body: { error: { code: 'unauthorized', message: expect.any(String) } } });
      }
      // Rotation takes no body, but a client may still send one.
      expect((await send(undefined, payload, type, '/api/v1/vehicles/ACME-1/credentials')).statusCode, what).toBe(401);
      const operator = await send(h.keys.acme.operator, payload, type);
      expect({ what, status: operator.statusCode, body: operator.json() }).toEqual({ what, status: 403, body: { error: { code: 'forbidden', message: expect.any(String) } } });
    }
    // With the right key the body is judged as before.
    const admin = await send(h.keys.acme.admin, '{"id": ');
    expect(admin.statusCode).toBe(400);
    expect(admin.json().error.code).toBe('invalid_body');
  });

  it('answers unknown routes with 404 in the error format', async () => {
    const r = await h.request('GET', '/api/v1/nope', h.keys.acme.operator);
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('not_found');
  });

  it('stops accepting a key revoked while the API runs once apiKeyCacheS has passed (found keys are cached that long)', async () => {
    const app = await createQueryApp({ db: h.database.db, logger: createLogger('query-test', 'silent'), options: { apiKeyCacheS: 0.3 } });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    try {
      const repo = new ApiKeyRepository(h.database.db);
      const key = generateApiKey();
      const record = await repo.create({ tenantId: 'acme', role: 'operator', digest: digestOf(key), prefix: keyPrefix(key), name: 'revoked while running' });
      const status = async () => (await app.inject({ method: 'GET', url: '/api/v1/fleet/status', headers: { authorization: `Bearer ${key}` } })).statusCode;
      expect(await status()).toBe(200);
      expect(await repo.revoke(record.id, 'acme')).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 350));
      expect(await status()).toBe(401);
    } finally {
      await app.close();
    }
  });
});
