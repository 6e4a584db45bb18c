// A vehicle's telemetry (raw pages and bucketed series, identical on TimescaleDB and PostgreSQL) and events.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EventsRepository, type NewTelemetryRow } from '../../../libs/db/src/index.js';
import { describeEachBackend } from '../../setup/database.js';
import { type QueryHarness, seedState, seedTelemetry, seedVehicle, startQueryHarness } from './harness.js';

describeEachBackend('vehicle telemetry and events', (backend) => {
  let h: QueryHarness;
  beforeAll(async () => {
    h = await startQueryHarness(backend);
    await seedVehicle(h.database, { id: 'V-1' });
    const rows: NewTelemetryRow[] = [];
    // One sample a minute from 08:00 to 08:59, speed = minute, soc falling from 90.
    for (let m = 0; m < 60; m++) {
      rows.push({ vehicle_id: 'V-1', ts: new Date(Date.UTC(2026, 10, 20, 8, m)), seq: m, speed_kmh: m, soc_pct: 90 - m / 2 });
    }
    await seedTelemetry(h.database, rows);
    await new EventsRepository(h.database.db).insertBatch([
      { vehicle_id: 'V-1', ts: new Date('2026-11-20T08:10:00Z'), seq: 1, kind: 'alarm', code: 'SOC_LOW', level: 1, active: true, message: null, data: null },
      { vehicle_id: 'V-1', ts: new Date('2026-11-20T08:20:00Z'), seq: 2, kind: 'alarm', code: 'SOC_LOW', level: 1, active: false, message: null, data: null },
      { vehicle_id: 'V-1', ts: new Date('2026-11-20T08:30:00Z'), seq: 3, kind: 'state', code: null, level: null, active: null, message: 'working', data: { from: 'idle' } },
      // `level` and `active` are optional in the contract: a raise without `active`, a clear without `level`.
      { vehicle_id: 'V-1', ts: new Date('2026-11-20T08:40:00Z'), seq: 4, kind: 'alarm', code: 'H2_LEAK', level: 3, active: true, message: null, data: null },
      { vehicle_id: 'V-1', ts: new Date('2026-11-20T08:45:00Z'), seq: 5, kind: 'alarm', code: 'H2_LEAK', level: null, active: false, message: null, data: null },
      { vehicle_id: 'V-1', ts: new Date('2026-11-20T08:50:00Z'), seq: 6, kind: 'alarm', code: 'DOOR_OPEN', level: 2, active: null, message: null, data: null },
    ]);
    // Two more vehicles with snapshots and active alarms, so every fleet-wide listing has more than one page at limit=1.
    const now = new Date();
    for (const [id, alarms] of [
      ['V-2', { SOC_LOW: 1, H2_LEAK: 3 }],
      ['V-3', { DOOR_OPEN: 2 }],
    ] as const) {
      await seedVehicle(h.database, { id });
      const active = Object.fromEntries(Object.entries(alarms).map(([code, level]) => [code, { level, since: now.toISOString(), message: null }]));
      await seedState(h.database, { vehicle_id: id, connected: true, last_received_at: now, last_ts: now, active_alarms: active, alarm_max_level: Math.max(...Object.values(alarms)) });
    }
  });
  afterAll(async () => h?.close());

  const range = 'from=2026-11-20T08:00:00Z&to=2026-11-20T09:00:00Z';

  it('pages raw samples in (ts, seq) order', async () => {
    const first = await h.request('GET', `/api/v1/vehicles/V-1/telemetry?${range}&limit=40`, h.keys.acme.operator);
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(40);
    expect(first.body.items[0]).toMatchObject({ ts: '2026-11-20T08:00:00.000Z', seq: 0, speed_kmh: 0 });
    const second = await h.request('GET', `/api/v1/vehicles/V-1/telemetry?${range}&limit=40&cursor=${first.body.next_cursor}`, h.keys.acme.operator);
    expect(second.body.items).toHaveLength(20);
    expect(second.body.items[0].seq).toBe(40);
    expect(second.body.next_cursor).toBeNull();
  });

  it('answers a bucketed series with avg/min/max/last', async () => {
    const r = await h.request('GET', `/api/v1/vehicles/V-1/telemetry?${range}&bucket=15m&signals=speed_kmh,soc_pct`, h.keys.acme.operator);
    expect(r.status).toBe(200);
    expect(r.body.items).toHaveLength(4);
    expect(r.body.items[1]).toEqual({
      bucket: '2026-11-20T08:15:00.000Z',
      samples: 15,
      signals: { speed_kmh: { avg: 22, min: 15, max: 29, last: 29 }, soc_pct: { avg: 79, min: 75.5, max: 82.5, last: 75.5 } },
    });
    // A `real` column's samples read in a bucket as they do raw: 31.7, not the float8 view of the stored float4.
    await seedVehicle(h.database, { id: 'V-REAL' });
    await seedTelemetry(h.database, [{ vehicle_id: 'V-REAL', ts: new Date('2026-11-20T08:05:00Z'), seq: 1, soc_pct: 31.7, speed_kmh: 12.3 }]);
    const real = await h.request('GET', `/api/v1/vehicles/V-REAL/telemetry?${range}&bucket=1h&signals=soc_pct,speed_kmh`, h.keys.acme.operator);
    const raw = await h.request('GET', `/api/v1/vehicles/V-REAL/telemetry?${range}`, h.keys.acme.operator);
    expect(raw.body.items[0].soc_pct).toBe(31.7);
    expect(real.body.items[0].signals.soc_pct).toMatchObject({ min: 31.7, max: 31.7, last: 31.7 });
    expect(real.body.items[0].signals.speed_kmh).toMatchObject({ min: 12.3, max: 12.3, last: 12.3 });
    const paged = await h.request('GET', `/api/v1/vehicles/V-1/telemetry?${range}&bucket=15m&signals=speed_kmh&limit=3`, h.keys.acme.operator);
    const rest = await h.request('GET', `/api/v1/vehicles/V-1/telemetry?${range}&bucket=15m&signals=speed_kmh&limit=3&cursor=${paged.body.next_cursor}`, h.keys.acme.operator);
    expect(rest.body.items.map((b: { bucket: string }) => b.bucket)).toEqual(['2026-11-20T08:45:00.000Z']);
  });

  it('lists events newest first with filters', async () => {
    const all = await h.request('GET', `/api/v1/vehicles/V-1/events?${range}`, h.keys.acme.operator);
    expect(all.body.items.map((e: { seq: number }) => e.seq)).toEqual([6, 5, 4, 3, 2, 1]);
    const seqs = async (qs: string) => (await h.request('GET', `/api/v1/${qs}`, h.keys.acme.operator)).body.items.map((e: { seq: number }) => e.seq);
    // A raise without `active` is a raise (as ingestion's merge reads it); the state event has no active state at all.
    expect(await seqs(`vehicles/V-1/events?${range}&kind=alarm&active=true`)).toEqual([6, 4, 1]);
    expect(await seqs(`vehicles/V-1/events?${range}&active=true`)).toEqual([6, 4, 1]);
    expect(await seqs(`vehicles/V-1/events?${range}&active=false`)).toEqual([5, 2]);
    // The history holds every alarm event, the clear without a level included; min_level reads a missing level as 1.
    expect(await seqs(`alarms?active=false&${range}`)).toEqual([6, 5, 4, 2, 1]);
    expect(await seqs(`alarms?active=false&min_level=2&${range}`)).toEqual([6, 4]);
  });

  it("refuses another listing's cursor: an events cursor sent to telemetry is 400 invalid_cursor, not a wrong page", async () => {
    const events = await h.request('GET', `/api/v1/vehicles/V-1/events?${range}&limit=1`, h.keys.acme.operator);
    expect(events.body.next_cursor).toEqual(expect.any(String));
    for (const url of [`/api/v1/vehicles/V-1/telemetry?${range}`, `/api/v1/vehicles/V-1/telemetry?${range}&bucket=15m`, `/api/v1/alarms?active=false&${range}`]) {
      const r = await h.request('GET', `${url}&cursor=${events.body.next_cursor}`, h.keys.acme.operator);
      expect({ url, status: r.status, body: r.body }).toEqual({ url, status: 400, body: { error: { code: 'invalid_cursor', message: expect.any(String) } } });
    }
    const telemetry = await h.request('GET', `/api/v1/vehicles/V-1/telemetry?${range}&limit=1`, h.keys.acme.operator);
    const back = await h.request('GET', `/api/v1/vehicles/V-1/events?${range}&cursor=${telemetry.body.next_cursor}`, h.keys.acme.operator);
    expect(back.status).toBe(400);
    expect(back.body.error.code).toBe('invalid_cursor');
    // A bucketed cursor continues only the series of its own bucket width.
    const fine = await h.request('GET', `/api/v1/vehicles/V-1/telemetry?${range}&bucket=5m&signals=speed_kmh&limit=1`, h.keys.acme.operator);
    const coarse = await h.request('GET', `/api/v1/vehicles/V-1/telemetry?${range}&bucket=15m&signals=speed_kmh&cursor=${fine.body.next_cursor}`, h.keys.acme.operator);
    expect({ status: coarse.status, code: coarse.body.error?.code }).toEqual({ status: 400, code: 'invalid_cursor' });
    const same = await h.request('GET', `/api/v1/vehicles/V-1/telemetry?${range}&bucket=5m&signals=speed_kmh&limit=1&cursor=${fine.body.next_cursor}`, h.keys.acme.operator);
    expect(same.body.items.map((b: { bucket: string }) => b.bucket)).toEqual(['2026-11-20T08:05:00.000Z']);
  });

  it('pages every listing with limit=1 to the same items as one page', async () => {
    const short = 'from=2026-11-20T08:00:00Z&to=2026-11-20T08:05:00Z';
    const listings = [
      '/api/v1/fleet/status',
      '/api/v1/fleet/health',
      '/api/v1/vehicles',
      `/api/v1/vehicles/V-1/telemetry?${short}`,
      `/api/v1/vehicles/V-1/telemetry?${range}&bucket=15m`,
      `/api/v1/vehicles/V-1/events?${range}`,
      '/api/v1/alarms',
      `/api/v1/alarms?active=false&${range}`,
    ];
    for (const url of listings) {
      const sep = url.includes('?') ? '&' : '?';
      const whole = await h.request('GET', url, h.keys.acme.operator);
      expect(whole.status, url).toBe(200);
      expect(whole.body.items.length, url).toBeGreaterThan(1);
      const walked: unknown[] = [];
      let cursor: string | null = null;
      do {
        const page: { status: number; body: any } = await h.request('GET', `${url}${sep}limit=1${cursor ? `&cursor=${cursor}` : ''}`, h.keys.acme.operator);
        expect({ url, status: page.status }).toEqual({ url, status: 200 });
        walked.push(...page.body.items);
        cursor = page.body.next_cursor;
      } while (cursor !== null && walked.length <= whole.body.items.length);
      expect(walked, url).toEqual(whole.body.items);
    }
  });

  it('answers 400 with a code for bad parameters', async () => {
    const code = async (qs: string) => (await h.request('GET', `/api/v1/vehicles/V-1/telemetry?${qs}`, h.keys.acme.operator)).body.error?.code;
    expect(await code('from=2026-11-20T08:00:00Z&to=2026-11-25T08:00:00Z')).toBe('range_too_long'); // raw: 1 day max
    expect(await code('from=2026-11-20T08:00:00Z&to=2026-11-25T08:00:00Z&bucket=1h')).toBeUndefined(); // bucketed: fine
    expect(await code('from=2026-11-20T08:00:00Z&to=2026-12-30T08:00:00Z&bucket=1h')).toBe('range_too_long');
    expect(await code(`${range}&bucket=fast`)).toBe('invalid_bucket');
    expect(await code(`${range}&bucket=1s`)).toBeUndefined();
    expect(await code('from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z&bucket=1s')).toBe('too_many_buckets');
    expect(await code(`${range}&bucket=1m&signals=colour`)).toBe('invalid_parameter');
    expect(await code(`${range}&limit=20000`)).toBe('page_too_large');
    expect(await code('from=2026-13-01T00:00:00Z')).toBe('invalid_time');
    // Active alarms have no time range: a from or to is refused, not ignored unread (garbage included).
    const alarms = async (qs: string) => (await h.request('GET', `/api/v1/alarms?${qs}`, h.keys.acme.operator)).body.error?.code;
    expect(await alarms('from=garbage')).toBe('invalid_parameter');
    expect(await alarms('active=true&to=2026-11-20T09:00:00Z')).toBe('invalid_parameter');
    expect(await alarms('active=false&from=garbage')).toBe('invalid_time');
    expect(await alarms('min_level=2')).toBeUndefined();
  });
});
