// Fleet status (connectivity, filters, counts, pagination) and fleet health (each rule with a fixture that trips
// it and one that does not), from vehicle_state only.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachBackend } from '../../setup/database.js';
import { type QueryHarness, seedState, seedVehicle, startQueryHarness } from './harness.js';

const ago = (s: number) => new Date(Date.now() - s * 1000);

describeEachBackend('fleet status and health', (backend) => {
  let h: QueryHarness;
  beforeAll(async () => {
    h = await startQueryHarness(backend, { offlineAfterS: 900 });
    const healthy = { connected: true, last_received_at: ago(5), last_ts: ago(5), battery_temp_max_c: 30, cell_v_max: 3.41, cell_v_min: 3.39, soh_pct: 95, soc_pct: 70 };
    const vehicles: Array<[string, Record<string, unknown>, Partial<Parameters<typeof seedVehicle>[1]>?]> = [
      ['OK-1', { ...healthy, state: 'working', lat: 31.7, lon: 113.4, speed_kmh: 12 }],
      ['HOT-WARN', { ...healthy, battery_temp_max_c: 47 }],
      ['HOT-CRIT', { ...healthy, battery_temp_max_c: 58 }],
      ['IMBAL', { ...healthy, cell_v_max: 3.6, cell_v_min: 3.3 }],
      ['SOH', { ...healthy, soh_pct: 76 }],
      ['SOC-LOW', { ...healthy, soc_pct: 8 }],
      ['H2-LOW', { ...healthy, h2_mass_kg: 2, soc_pct: 60 }, { powertrain: 'fcev', h2CapacityKg: 25 }],
      ['H2-OK', { ...healthy, h2_mass_kg: 20, soc_pct: 5 }, { powertrain: 'fcev', h2CapacityKg: 25 }],
      ['FUEL-LOW', { ...healthy, fuel_level_pct: 12, soc_pct: 3 }, { powertrain: 'phev', type: 'fire_engine', bodyType: 'pump' }],
      ['ALARM-3', { ...healthy, active_alarms: { BATTERY_HIGH_TEMP: { level: 3, since: ago(60).toISOString(), message: 'pack 62 °C' } }, alarm_max_level: 3 }],
      ['ALARM-1', { ...healthy, active_alarms: { SOC_LOW: { level: 1, since: ago(60).toISOString(), message: null } }, alarm_max_level: 1 }],
      ['DTC', { ...healthy, active_dtcs: ['P0A80', 'SPN520-FMI3'] }],
      ['STALE', { ...healthy, last_received_at: ago(120) }, { reportIntervalS: 10 }],
      ['OFF-SHORT', { ...healthy, connected: false, last_received_at: ago(3600) }],
      ['OFF-LONG', { ...healthy, connected: false, last_received_at: ago(30 * 3600) }],
      ['SILENT', { ...healthy, connected: true, last_received_at: ago(4 * 86_400) }],
    ];
    for (const [id, state, vehicle] of vehicles) {
      await seedVehicle(h.database, { id, ...(vehicle ?? {}) });
      await seedState(h.database, { vehicle_id: id, ...state });
    }
    await seedVehicle(h.database, { id: 'NEVER' }); // provisioned just now, no snapshot
  });
  afterAll(async () => h?.close());

  it('reports connectivity per SPEC §5 and counts per connectivity', async () => {
    const r = await h.request('GET', '/api/v1/fleet/status?limit=1000', h.keys.acme.operator);
    expect(r.status).toBe(200);
    const byId = Object.fromEntries(r.body.items.map((v: { id: string; connectivity: string }) => [v.id, v.connectivity]));
    expect(byId).toMatchObject({ 'OK-1': 'online', STALE: 'stale', 'OFF-SHORT': 'offline', 'OFF-LONG': 'offline', SILENT: 'offline', NEVER: 'offline' });
    expect(r.body.counts).toEqual({ total: 17, connectivity: { online: 12, stale: 1, offline: 4 } });
    const ok = r.body.items.find((v: { id: string }) => v.id === 'OK-1');
    expect(ok).toMatchObject({ type: 'road_sweeper', body_type: 'sweeper', powertrain: 'bev', state: 'working', position: { lat: 31.7, lon: 113.4 }, speed_kmh: 12, energy: { soc_pct: 70 }, alarm_max_level: 0, active_dtc_count: 0 });
    expect(r.body.items.find((v: { id: string }) => v.id === 'DTC').active_dtc_count).toBe(2);
  });

  it('answers each status entry with every field, null where nothing is known, and a null cursor on the last page', async () => {
    const r = await h.request('GET', '/api/v1/fleet/status?limit=1000', h.keys.acme.operator);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Object.keys(r.body)).toEqual(['generated_at', 'counts', 'items', 'next_cursor']);
    expect(r.body.generated_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(r.body.next_cursor).toBeNull();
    const of = (id: string) => r.body.items.find((v: { id: string }) => v.id === id);
    // Provisioned, never reported: no snapshot at all.
    expect(of('NEVER')).toEqual({
      id: 'NEVER',
      type: 'road_sweeper',
      body_type: 'sweeper',
      powertrain: 'bev',
      connectivity: 'offline',
      last_seen: null,
      state: null,
      position: null,
      speed_kmh: null,
      energy: { soc_pct: null, h2_kg: null, h2_pct: null, fuel_pct: null },
      alarm_max_level: 0,
      active_dtc_count: 0,
    });
    const [stored] = await h.database.db.selectFrom('vehicle_state').select('last_received_at').where('vehicle_id', '=', 'OK-1').execute();
    expect(Object.keys(of('OK-1'))).toEqual(Object.keys(of('NEVER')));
    expect(of('OK-1')).toMatchObject({ last_seen: stored!.last_received_at!.toISOString(), position: { lat: 31.7, lon: 113.4, heading_deg: null }, speed_kmh: 12 });
    expect(of('H2-LOW').energy).toEqual({ soc_pct: 60, h2_kg: 2, h2_pct: 8, fuel_pct: null });
    expect(of('ALARM-3').alarm_max_level).toBe(3);
  });

  it('checks the key before the parameters, and answers errors as {"error":{"code","message"}}', async () => {
    const noKey = await h.request('GET', '/api/v1/fleet/status?limit=0');
    expect(noKey.status).toBe(401);
    expect(noKey.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    const bad = await h.request('GET', '/api/v1/fleet/status?limit=0&tenant=other', h.keys.acme.operator);
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(bad.body).toEqual({ error: { code: 'invalid_parameter', message: expect.any(String) } });
  });

  it('filters and paginates with a cursor', async () => {
    const offline = await h.request('GET', '/api/v1/fleet/status?connectivity=offline', h.keys.acme.operator);
    expect(offline.body.items.map((v: { id: string }) => v.id)).toEqual(['NEVER', 'OFF-LONG', 'OFF-SHORT', 'SILENT']);
    const fcev = await h.request('GET', '/api/v1/fleet/status?powertrain=fcev', h.keys.acme.operator);
    expect(fcev.body.items.map((v: { id: string }) => v.id)).toEqual(['H2-LOW', 'H2-OK']);
    expect(fcev.body.items[0].energy.h2_pct).toBe(8);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: Array<{ id: string }>; next_cursor: string | null } } = await h.request('GET', `/api/v1/fleet/status?limit=5${cursor ? `&cursor=${cursor}` : ''}`, h.keys.acme.operator);
      expect(page.body.items.length).toBeLessThanOrEqual(5);
      seen.push(...page.body.items.map((v) => v.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(17);
    expect(new Set(seen).size).toBe(17);
  });

  it('grades each vehicle by the health rules, with reasons', async () => {
    const r = await h.request('GET', '/api/v1/fleet/health?limit=1000', h.keys.acme.operator);
    expect(r.status).toBe(200);
    const items: Array<{ vehicle_id: string; grade: string; reasons: Array<{ rule: string; severity: string }> }> = r.body.items;
    const of = (id: string) => items.find((i) => i.vehicle_id === id)!;
    const rules = (id: string) => of(id).reasons.map((x) => `${x.rule}:${x.severity}`);
    expect(of('OK-1')).toMatchObject({ grade: 'ok', reasons: [] });
    expect(rules('HOT-WARN')).toEqual(['battery_hot:warn']);
    expect(rules('HOT-CRIT')).toEqual(['battery_hot:critical']);
    expect(rules('IMBAL')).toEqual(['cell_imbalance:critical']);
    expect(rules('SOH')).toEqual(['low_soh:warn']);
    expect(rules('SOC-LOW')).toEqual(['low_energy:critical']);
    expect(rules('H2-LOW')).toEqual(['low_energy:critical']); // 2 of 25 kg = 8 %
    expect(rules('H2-OK')).toEqual([]); // a fcev's buffer battery at 5 % is not its energy level
    expect(rules('FUEL-LOW')).toEqual(['low_energy:warn']); // a phev's empty battery does not matter
    expect(rules('ALARM-3')).toEqual(['active_alarm:critical']);
    expect(rules('ALARM-1')).toEqual(['active_alarm:warn']);
    expect(rules('DTC')).toEqual(['active_dtc:warn']);
    expect(rules('OFF-SHORT')).toEqual([]);
    expect(rules('OFF-LONG')).toEqual(['offline_too_long:warn']);
    expect(rules('SILENT')).toEqual(['offline_too_long:critical']);
    expect(rules('NEVER')).toEqual([]); // provisioned seconds ago
    expect(r.body.grades).toEqual({ ok: 5, warn: 6, critical: 6 });
    expect(r.body.connectivity).toEqual({ online: 12, stale: 1, offline: 4 });
    expect(r.body.alarms.by_level).toEqual({ '1': 1, '3': 1 });
    expect(r.body.alarms.by_code[0]).toEqual({ code: 'BATTERY_HIGH_TEMP', max_level: 3, vehicles: 1 });
    expect(r.body.top_dtcs).toEqual([{ code: 'P0A80', vehicles: 1 }, { code: 'SPN520-FMI3', vehicles: 1 }]);
    expect(r.body.battery_warnings.map((b: { vehicle_id: string }) => b.vehicle_id)).toEqual(['HOT-CRIT', 'IMBAL', 'HOT-WARN', 'SOH']);
    expect(r.body.low_energy.map((b: { vehicle_id: string }) => b.vehicle_id)).toEqual(['H2-LOW', 'SOC-LOW', 'FUEL-LOW']);
    expect(r.body.offline_too_long.map((b: { vehicle_id: string }) => b.vehicle_id)).toEqual(['SILENT', 'OFF-LONG']);
    const critical = await h.request('GET', '/api/v1/fleet/health?grade=critical', h.keys.acme.operator);
    expect(critical.body.items.map((i: { vehicle_id: string }) => i.vehicle_id)).toEqual(['ALARM-3', 'H2-LOW', 'HOT-CRIT', 'IMBAL', 'SILENT', 'SOC-LOW']);
  });

  it('applies configured thresholds', async () => {
    const strict = await startQueryHarness(backend, { health: { batteryTempWarnC: 25, dtcWarnCount: null } });
    try {
      await seedVehicle(strict.database, { id: 'A' });
      await seedState(strict.database, { vehicle_id: 'A', connected: true, last_received_at: new Date(), battery_temp_max_c: 30, active_dtcs: ['P0A80'] });
      const r = await strict.request('GET', '/api/v1/fleet/health', strict.keys.acme.operator);
      expect(r.body.items[0].reasons.map((x: { rule: string }) => x.rule)).toEqual(['battery_hot']);
    } finally {
      await strict.close();
    }
  });

  it('answers 400 with a code for bad parameters', async () => {
    const code = async (url: string) => (await h.request('GET', url, h.keys.acme.operator)).body.error?.code;
    expect(await code('/api/v1/fleet/status?limit=100000')).toBe('page_too_large');
    expect(await code('/api/v1/fleet/status?limit=0')).toBe('invalid_parameter');
    expect(await code('/api/v1/fleet/status?connectivity=sometimes')).toBe('invalid_parameter');
    expect(await code('/api/v1/fleet/status?cursor=garbage')).toBe('invalid_cursor');
    expect(await code('/api/v1/fleet/health?grade=great')).toBe('invalid_parameter');
    expect(await code('/api/v1/alarms?min_level=9')).toBe('invalid_parameter');
    expect(await code('/api/v1/vehicles?limit=5000')).toBe('page_too_large');
  });
});
