// Requests a client can forge — tampered cursors, NUL characters, times PostgreSQL cannot hold, malformed or
// over-long paths, integers that are not integers — answer 400/404 in the error format, never a 500 from the database
// or a body in Fastify's own shape (SPEC §5).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachBackend } from '../../setup/database.js';
import { type QueryHarness, seedState, seedVehicle, startQueryHarness } from './harness.js';

const cursorOf = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString('base64url');
const errorShape = (code: string) => ({ error: { code, message: expect.any(String) } });

describeEachBackend('hostile query requests', (backend) => {
  let h: QueryHarness;
  let key: string;
  beforeAll(async () => {
    h = await startQueryHarness(backend);
    key = h.keys.acme.operator;
    await seedVehicle(h.database, { id: 'V-1' });
    await seedState(h.database, { vehicle_id: 'V-1', connected: true, last_received_at: new Date(), last_ts: new Date() });
  });
  afterAll(async () => h?.close());

  const range = 'from=2026-11-20T08:00:00Z&to=2026-11-20T09:00:00Z';
  const now = Date.parse('2026-11-20T08:30:00Z');

  it('answers a tampered cursor with 400 invalid_cursor on every paginated endpoint', async () => {
    // Each forged key carries its listing's tag, so only the bad part can be what is refused.
    const cases: Array<[string, unknown[]]> = [
      [`/api/v1/vehicles/V-1/telemetry?${range}`, ['tr', 1e16, 1]], // past Date's range: toISOString throws
      [`/api/v1/vehicles/V-1/telemetry?${range}`, ['tr', -8e15, 1]], // year −251503: timestamptz refuses it
      [`/api/v1/vehicles/V-1/telemetry?${range}`, ['tr', now, 1.5]], // ::bigint refuses 1.5
      [`/api/v1/vehicles/V-1/telemetry?${range}&bucket=5m`, ['tb', 1e16, 300]],
      [`/api/v1/vehicles/V-1/telemetry?${range}&bucket=5m`, ['tb', now, 3600]], // a 1-hour series' cursor
      [`/api/v1/vehicles/V-1/events?${range}`, ['ev', 1e16, 1]],
      [`/api/v1/vehicles/V-1/events?${range}`, ['ev', now, 1.5]],
      [`/api/v1/alarms?active=false&${range}`, ['ah', 1e16, 'V-1', 1]],
      [`/api/v1/alarms?active=false&${range}`, ['ah', now, 'V-1', 1.5]],
      ['/api/v1/alarms', ['aa', 1.5, 'V-1', 'X']], // ${-level}::int refuses 1.5
      ['/api/v1/alarms', ['aa', 1, 'V-\u00001', 'X']],
      ['/api/v1/fleet/status', ['fs', '\u0000']],
      ['/api/v1/fleet/health', ['fh', '\u0000']],
      ['/api/v1/vehicles', ['v', '\u0000']],
      // A well-formed key of another listing, or one without a tag (as issued before cursors were tagged).
      [`/api/v1/vehicles/V-1/telemetry?${range}`, ['ev', now, 1]],
      [`/api/v1/vehicles/V-1/telemetry?${range}`, [now, 1]],
      ['/api/v1/vehicles', ['fs', 'V-1']],
      ['/api/v1/fleet/status', ['V-1']],
    ];
    for (const [url, cursor] of cases) {
      const r = await h.request('GET', `${url}${url.includes('?') ? '&' : '?'}cursor=${cursorOf(cursor)}`, key);
      expect({ url, cursor, status: r.status, body: r.body }).toEqual({ url, cursor, status: 400, body: errorShape('invalid_cursor') });
    }
    // The same keys with their own tag are accepted (so the cases above fail for the part they name).
    for (const [url, cursor] of [
      [`/api/v1/vehicles/V-1/telemetry?${range}`, ['tr', now, 1]],
      [`/api/v1/vehicles/V-1/telemetry?${range}&bucket=5m`, ['tb', now, 300]],
      [`/api/v1/vehicles/V-1/events?${range}`, ['ev', now, 1]],
      [`/api/v1/alarms?active=false&${range}`, ['ah', now, 'V-1', 1]],
      ['/api/v1/alarms', ['aa', 1, 'V-1', 'X']],
      ['/api/v1/fleet/status', ['fs', 'V-0']],
      ['/api/v1/fleet/health', ['fh', 'V-0']],
      ['/api/v1/vehicles', ['v', 'V-0']],
    ] as Array<[string, unknown[]]>) {
      const r = await h.request('GET', `${url}${url.includes('?') ? '&' : '?'}cursor=${cursorOf(cursor)}`, key);
      expect({ url, cursor, status: r.status }).toEqual({ url, cursor, status: 200 });
    }
  });

  it('refuses a NUL character in a string parameter with 400, naming the parameter', async () => {
    for (const url of ['/api/v1/fleet/status?type=a%00b', '/api/v1/fleet/health?type=a%00b', '/api/v1/vehicles?type=a%00b', '/api/v1/fleet/status?body_type=%00']) {
      const r = await h.request('GET', url, key);
      expect(r.status, url).toBe(400);
      expect(r.body, url).toEqual(errorShape('invalid_parameter'));
      expect(r.body.error.message, url).toMatch(/^parameter \w+ must not contain a NUL character/);
    }
  });

  it('refuses times PostgreSQL cannot represent with 400 invalid_time', async () => {
    for (const url of [
      '/api/v1/energy?from=0000-01-01&to=0000-01-02',
      '/api/v1/vehicles/V-1/telemetry?from=0000-01-01T00:00:00Z&to=0000-01-01T00:30:00Z&bucket=1m',
      '/api/v1/vehicles/V-1/telemetry?to=0000-01-01T00:30:00Z&bucket=1m',
      '/api/v1/vehicles/V-1/events?from=1969-12-31T00:00:00Z&to=1970-01-01T01:00:00Z',
    ]) {
      const r = await h.request('GET', url, key);
      expect({ url, status: r.status, body: r.body }).toEqual({ url, status: 400, body: errorShape('invalid_time') });
    }
    // The earliest and latest accepted times work end to end (a default from is clamped to 1970-01-01).
    const early = await h.request('GET', '/api/v1/vehicles/V-1/telemetry?to=1970-01-01T00:30:00Z&bucket=1m', key);
    expect(early.status).toBe(200);
    expect(early.body.from).toBe('1970-01-01T00:00:00.000Z');
    expect((await h.request('GET', '/api/v1/energy?from=9999-12-30&to=9999-12-31T23:59:59.999Z&group_by=day', key)).status).toBe(200);
  });

  it('answers router errors in the error format: over-long ids 404, malformed percent-encoding 400', async () => {
    for (const length of [65, 100, 200, 5000]) {
      const r = await h.request('GET', `/api/v1/vehicles/${'A'.repeat(length)}`, key);
      expect({ length, status: r.status, body: r.body }).toEqual({ length, status: 404, body: errorShape('not_found') });
    }
    const bad = await h.request('GET', '/api/v1/vehicles/%ZZ', key);
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual(errorShape('invalid_parameter'));
    expect(bad.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('refuses limit and min_level that are not plain integers instead of truncating them', async () => {
    for (const url of ['/api/v1/fleet/status?limit=1.5', '/api/v1/fleet/status?limit=0x10', '/api/v1/vehicles?limit=1e2', '/api/v1/alarms?min_level=1.5', '/api/v1/alarms?min_level=0b11']) {
      const r = await h.request('GET', url, key);
      expect({ url, status: r.status, body: r.body }).toEqual({ url, status: 400, body: errorShape('invalid_parameter') });
      expect(r.body.error.message).toMatch(/^parameter (limit|min_level) must be an integer/);
    }
    expect((await h.request('GET', '/api/v1/fleet/status?limit=16', key)).status).toBe(200);
  });

  it('names an unknown query parameter', async () => {
    for (const name of ['foo', '__proto__', 'constructor']) {
      const r = await h.request('GET', `/api/v1/fleet/status?${name}=x`, key);
      expect(r.status, name).toBe(400);
      expect(r.body).toEqual({ error: { code: 'invalid_parameter', message: `unknown query parameter "${name}"` } });
    }
  });
});
