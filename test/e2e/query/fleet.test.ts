// Issue 5 end to end: fleet status and fleet health answer what vehicles published over MQTT, within a second of the
// PUBACK (in embedded mode the PUBACK means committed, so the next read must see it); each health rule trips from a
// published sample or event while a healthy vehicle stays `ok`; connectivity follows connect, disconnect and the Last
// Will; another tenant's vehicle is 404 on every vehicle endpoint and listed nowhere.
//
// One embedded stack (aedes → ingestion → database, query API) per backend; vehicles are provisioned through the API
// and publish with real MQTT.js clients. The offline-too-long threshold is set to 3.6 s (HEALTH_OFFLINE_WARN_H=0.001)
// so the rule can trip in real time.
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ServiceAccountRepository } from '@fleet/db';
import { digestOf } from '../../../apps/query/src/auth/api-key.js';
import { createTestDatabase, describeEachBackend, type TestDatabase } from '../../setup/database.js';
import {
  type Api,
  apiClient,
  connectVehicle,
  type ProvisionedVehicle,
  provision,
  publish,
  seedTenant,
  sleep,
  type Stack,
  startTestStack,
  type TenantKeys,
  within,
} from '../support/stack.js';

/** Every "reflects within a second" check: poll with this deadline right after the PUBACK. */
const SECOND = 1_000;
const OFFLINE_WARN_S = 3.6;

type Powertrain = 'bev' | 'fcev' | 'ice' | 'phev';

interface StatusEntry {
  id: string;
  type: string;
  body_type: string;
  powertrain: string;
  connectivity: 'online' | 'stale' | 'offline';
  last_seen: string | null;
  state: string | null;
  position: { lat: number; lon: number; heading_deg: number | null } | null;
  speed_kmh: number | null;
  energy: { soc_pct: number | null; h2_kg: number | null; h2_pct: number | null; fuel_pct: number | null };
  alarm_max_level: number;
  active_dtc_count: number;
}
interface FleetStatus {
  counts: { total: number; connectivity: { online: number; stale: number; offline: number } };
  items: StatusEntry[];
  next_cursor: string | null;
}
interface Reason {
  rule: string;
  severity: 'warn' | 'critical';
  message: string;
  value: number | string | null;
  threshold: number | null;
}
interface HealthItem {
  vehicle_id: string;
  connectivity: string;
  grade: 'ok' | 'warn' | 'critical';
  reasons: Reason[];
}
interface FleetHealth {
  vehicles: number;
  connectivity: { online: number; stale: number; offline: number };
  alarms: { by_level: Record<string, number>; by_code: Array<{ code: string; max_level: number; vehicles: number }> };
  top_dtcs: Array<{ code: string; vehicles: number }>;
  battery_warnings: Array<{ vehicle_id: string; grade: string; reasons: Reason[] }>;
  low_energy: Array<{ vehicle_id: string; grade: string; reasons: Reason[] }>;
  offline_too_long: Array<{ vehicle_id: string; last_seen: string | null; grade: string; message: string }>;
  items: HealthItem[];
}

const HEALTHY_BATTERY = { soc_pct: 70, voltage_v: 614.2, current_a: 20, temp_max_c: 30, temp_min_c: 25, cell_v_max: 3.41, cell_v_min: 3.39, soh_pct: 95 };

/** A healthy sample for the powertrain (the blocks SPEC §3 says it reports), stamped now. */
function healthySample(powertrain: Powertrain, seq: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const blocks: Record<Powertrain, Record<string, unknown>> = {
    bev: { battery: HEALTHY_BATTERY },
    // The fuel-cell vehicle's buffer battery is nearly empty on purpose: hydrogen is its energy level, and 20 of 25 kg is fine.
    fcev: { battery: { ...HEALTHY_BATTERY, soc_pct: 5 }, hydrogen: { mass_kg: 20, pressure_mpa: 60, fc_power_kw: 30, fc_temp_c: 65 } },
    ice: { fuel: { level_pct: 60, rate_lph: 12, engine_rpm: 1400, coolant_c: 88 } },
    // The plug-in hybrid's traction battery is empty on purpose: it still drives on fuel, which is at 60 %.
    phev: { battery: { ...HEALTHY_BATTERY, soc_pct: 3 }, fuel: { level_pct: 60, rate_lph: 10, engine_rpm: 1300, coolant_c: 86 } },
  };
  return {
    v: 1,
    ts: new Date().toISOString(),
    seq,
    position: { lat: 31.6902, lon: 113.3824, heading_deg: 90, speed_kmh: 8.5 },
    state: 'working',
    ...blocks[powertrain],
    ...extra,
  };
}

const telemetry = (id: string) => `fleet/${id}/telemetry`;
const events = (id: string) => `fleet/${id}/events`;

describeEachBackend('fleet status and health over MQTT (embedded stack)', (backend) => {
  let database: TestDatabase;
  let stack: Stack;
  let api: Api;
  let acme: TenantKeys;
  let other: TenantKeys;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    acme = await seedTenant(database, 'acme');
    other = await seedTenant(database, 'other');
    stack = await startTestStack(database, { HEALTH_OFFLINE_WARN_H: String(OFFLINE_WARN_S / 3600) });
    api = apiClient(stack.httpPort);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await stack?.stop();
    await database?.drop();
  });

  const vehicle = async (id: string, powertrain: Powertrain, extra: Record<string, unknown> = {}, keys = acme): Promise<ProvisionedVehicle> =>
    provision(api, keys.admin, { id, type: 'road_sweeper', body_type: 'sweeper', powertrain, report_interval_s: 10, ...extra });
  const connect = async (v: ProvisionedVehicle): Promise<MqttClient> => {
    const client = await connectVehicle(stack.mqttPort, v);
    clients.push(client);
    return client;
  };
  const status = async (key = acme.operator): Promise<FleetStatus> => api.get<FleetStatus>('/api/v1/fleet/status?limit=1000', key);
  const statusOf = async (id: string): Promise<StatusEntry> => {
    const entry = (await status()).items.find((i) => i.id === id);
    if (!entry) throw new Error(`${id} not in fleet status`);
    return entry;
  };
  const health = async (key = acme.operator): Promise<FleetHealth> => api.get<FleetHealth>('/api/v1/fleet/health?limit=1000', key);
  const healthOf = async (id: string): Promise<HealthItem> => {
    const item = (await health()).items.find((i) => i.vehicle_id === id);
    if (!item) throw new Error(`${id} not in fleet health`);
    return item;
  };
  const rulesOf = (item: HealthItem): string[] => item.reasons.map((r) => `${r.rule}:${r.severity}`);

  it('provisions over the API with MQTT credentials that log in to this broker', async () => {
    const v = await vehicle('FL-PROV-1', 'bev', { vin: 'LSZ0000000000001', model: 'e2e sweeper' });
    expect(v.mqtt).toMatchObject({ username: 'FL-PROV-1', client_id: 'FL-PROV-1' });
    expect(v.mqtt.password.length).toBeGreaterThanOrEqual(40);
    // The answer must name the port the broker listens on (here an ephemeral one), or the vehicle cannot connect.
    expect(v.mqtt.port).toBe(stack.mqttPort);
    const client = await connect(v);
    expect(client.connected).toBe(true);
    // The secret is shown once: the registry never answers it.
    const read = await api.request('GET', '/api/v1/vehicles/FL-PROV-1', acme.operator);
    expect(read.status).toBe(200);
    expect(JSON.stringify(read.body)).not.toContain(v.password);
    await client.endAsync();
  });

  it('fleet status reflects a published sample within a second of its PUBACK', async () => {
    const v = await vehicle('FL-ST-1', 'bev');
    const client = await connect(v);
    // Connected but nothing sent yet: stale (SPEC §5).
    await within(SECOND, async () => expect((await statusOf('FL-ST-1')).connectivity).toBe('stale'));

    const ts = new Date().toISOString();
    await publish(client, telemetry(v.id), {
      v: 1,
      ts,
      seq: 41,
      position: { lat: 31.7011, lon: 113.3907, alt_m: 96.5, heading_deg: 270, speed_kmh: 32.5 },
      state: 'driving',
      battery: { ...HEALTHY_BATTERY, soc_pct: 78.5 },
    });
    const entry = await within(SECOND, async () => {
      const e = await statusOf('FL-ST-1');
      expect(e.connectivity).toBe('online');
      return e;
    });
    expect(entry).toMatchObject({
      type: 'road_sweeper',
      body_type: 'sweeper',
      powertrain: 'bev',
      state: 'driving',
      position: { lat: 31.7011, lon: 113.3907, heading_deg: 270 },
      speed_kmh: 32.5,
      energy: { soc_pct: 78.5, h2_kg: null, fuel_pct: null },
      alarm_max_level: 0,
      active_dtc_count: 0,
    });
    expect(Date.now() - Date.parse(entry.last_seen as string)).toBeLessThan(10_000);

    // The next sample moves the snapshot on, again within a second.
    await publish(client, telemetry(v.id), { v: 1, ts: new Date(Date.parse(ts) + 1).toISOString(), seq: 42, state: 'working', position: { lat: 31.702, lon: 113.391, speed_kmh: 7 }, battery: { soc_pct: 78.1 } });
    await within(SECOND, async () => expect(await statusOf('FL-ST-1')).toMatchObject({ state: 'working', speed_kmh: 7, energy: { soc_pct: 78.1 } }));
    const one = await api.get('/api/v1/vehicles/FL-ST-1', acme.operator);
    expect(one.snapshot).toMatchObject({ connectivity: 'online', connected: true, last_seq: 42, state: 'working' });
    // A late sample (older ts) is stored but does not move the snapshot back (SPEC §4.4).
    await publish(client, telemetry(v.id), { v: 1, ts: new Date(Date.parse(ts) - 60_000).toISOString(), seq: 40, state: 'off', battery: { soc_pct: 90 } });
    const raw = await within(SECOND, async () => {
      const r = await api.get(`/api/v1/vehicles/FL-ST-1/telemetry?from=${new Date(Date.parse(ts) - 120_000).toISOString()}`, acme.operator);
      expect(r.items).toHaveLength(3);
      return r;
    });
    expect(raw.items.map((s: { seq: number }) => s.seq).sort()).toEqual([40, 41, 42]);
    expect(await statusOf('FL-ST-1')).toMatchObject({ state: 'working', energy: { soc_pct: 78.1 } });
  });

  it('connectivity follows connect and disconnect', async () => {
    const v = await vehicle('FL-CONN-1', 'bev');
    const before = (await status()).counts.connectivity;
    let client = await connect(v);
    await publish(client, telemetry(v.id), healthySample('bev', 1));
    await within(SECOND, async () => expect((await statusOf(v.id)).connectivity).toBe('online'));
    const online = (await status()).counts.connectivity;
    expect(online.online).toBe(before.online + 1);

    // A clean disconnect (DISCONNECT, so no Last Will): offline.
    await client.endAsync();
    await within(SECOND, async () => expect((await statusOf(v.id)).connectivity).toBe('offline'));
    const offline = (await status()).counts.connectivity;
    expect(offline).toEqual({ ...online, online: online.online - 1, offline: online.offline + 1 });
    const filtered = await api.get<FleetStatus>('/api/v1/fleet/status?connectivity=offline&limit=1000', acme.operator);
    expect(filtered.items.map((i) => i.id)).toContain(v.id);
    expect(filtered.items.every((i) => i.connectivity === 'offline')).toBe(true);

    // Back: connected and its last sample is recent, so online again without a new sample.
    client = await connect(v);
    await within(SECOND, async () => expect((await statusOf(v.id)).connectivity).toBe('online'));
    const again = await api.get('/api/v1/vehicles/FL-CONN-1', acme.operator);
    expect(again.snapshot).toMatchObject({ connected: true, connectivity: 'online' });
    await client.endAsync();
    await within(SECOND, async () => expect((await statusOf(v.id)).connectivity).toBe('offline'));
  });

  it('trips each battery and energy rule from a published sample; a healthy vehicle of each powertrain stays ok', async () => {
    const cases: Array<{ id: string; powertrain: Powertrain; extra?: Record<string, unknown>; trip?: Record<string, unknown>; rules: string[] }> = [
      { id: 'FL-OK-BEV', powertrain: 'bev', rules: [] },
      { id: 'FL-OK-FCEV', powertrain: 'fcev', extra: { h2_capacity_kg: 25 }, rules: [] },
      { id: 'FL-OK-ICE', powertrain: 'ice', rules: [] },
      { id: 'FL-OK-PHEV', powertrain: 'phev', rules: [] },
      // hot pack: 47 °C ≥ 45 warn; 58 °C ≥ 55 critical
      { id: 'FL-HOT-W', powertrain: 'bev', trip: { battery: { ...HEALTHY_BATTERY, temp_max_c: 47 } }, rules: ['battery_hot:warn'] },
      { id: 'FL-HOT-C', powertrain: 'bev', trip: { battery: { ...HEALTHY_BATTERY, temp_max_c: 58 } }, rules: ['battery_hot:critical'] },
      // cell imbalance: 3.55 − 3.40 = 150 mV ≥ 100 mV warn
      { id: 'FL-IMBAL', powertrain: 'bev', trip: { battery: { ...HEALTHY_BATTERY, cell_v_max: 3.55, cell_v_min: 3.4 } }, rules: ['cell_imbalance:warn'] },
      // state of health 76 % < 80 % warn
      { id: 'FL-SOH', powertrain: 'bev', trip: { battery: { ...HEALTHY_BATTERY, soh_pct: 76 } }, rules: ['low_soh:warn'] },
      // low energy, per powertrain: bev SOC 8 % < 10 % critical; fcev 4 of 25 kg H2 = 16 % < 20 % warn;
      // ice fuel 4 % < 5 % critical; phev fuel 12 % < 15 % warn (its battery level does not count)
      { id: 'FL-SOC', powertrain: 'bev', trip: { battery: { ...HEALTHY_BATTERY, soc_pct: 8 } }, rules: ['low_energy:critical'] },
      { id: 'FL-H2', powertrain: 'fcev', extra: { h2_capacity_kg: 25 }, trip: { hydrogen: { mass_kg: 4, pressure_mpa: 12 } }, rules: ['low_energy:warn'] },
      { id: 'FL-FUEL', powertrain: 'ice', trip: { fuel: { level_pct: 4 } }, rules: ['low_energy:critical'] },
      { id: 'FL-PHEV', powertrain: 'phev', trip: { fuel: { level_pct: 12 } }, rules: ['low_energy:warn'] },
      // active DTCs reported in the sample: 2 ≥ 1 warn
      { id: 'FL-DTC', powertrain: 'bev', trip: { dtc: ['P0A80', 'SPN520-FMI3'] }, rules: ['active_dtc:warn'] },
    ];
    const connected = new Map<string, MqttClient>();
    for (const c of cases) {
      const v = await vehicle(c.id, c.powertrain, c.extra);
      const client = await connect(v);
      connected.set(c.id, client);
      // The same vehicle first reports healthy: it must not trip anything…
      await publish(client, telemetry(v.id), healthySample(c.powertrain, 1));
      await within(SECOND, async () => expect(await healthOf(c.id)).toMatchObject({ grade: 'ok', reasons: [], connectivity: 'online' }));
      if (!c.trip) continue;
      // …then the fixture sample, whose rule must trip within a second of the PUBACK.
      await publish(client, telemetry(v.id), healthySample(c.powertrain, 2, c.trip));
      await within(SECOND, async () => expect(rulesOf(await healthOf(c.id)), c.id).toEqual(c.rules));
    }

    const h = await health();
    const graded = Object.fromEntries(h.items.map((i) => [i.vehicle_id, i.grade]));
    expect(graded).toMatchObject({
      'FL-OK-BEV': 'ok',
      'FL-OK-FCEV': 'ok',
      'FL-OK-ICE': 'ok',
      'FL-OK-PHEV': 'ok',
      'FL-HOT-W': 'warn',
      'FL-HOT-C': 'critical',
      'FL-IMBAL': 'warn',
      'FL-SOH': 'warn',
      'FL-SOC': 'critical',
      'FL-H2': 'warn',
      'FL-FUEL': 'critical',
      'FL-PHEV': 'warn',
      'FL-DTC': 'warn',
    });
    const hot = h.items.find((i) => i.vehicle_id === 'FL-HOT-C')!.reasons[0]!;
    expect(hot).toMatchObject({ value: 58, threshold: 55 });
    const h2 = h.items.find((i) => i.vehicle_id === 'FL-H2')!.reasons[0]!;
    expect(h2).toMatchObject({ value: 16, threshold: 20 }); // 4 / 25 = 16 %
    expect(h.battery_warnings.map((b) => b.vehicle_id).sort()).toEqual(['FL-HOT-C', 'FL-HOT-W', 'FL-IMBAL', 'FL-SOH']);
    expect(h.low_energy.map((b) => b.vehicle_id).sort()).toEqual(['FL-FUEL', 'FL-H2', 'FL-PHEV', 'FL-SOC']);
    expect(h.top_dtcs).toEqual(expect.arrayContaining([{ code: 'P0A80', vehicles: 1 }, { code: 'SPN520-FMI3', vehicles: 1 }]));
    // Fleet status carries the same readings.
    expect(await statusOf('FL-DTC')).toMatchObject({ active_dtc_count: 2 });
    expect(await statusOf('FL-H2')).toMatchObject({ energy: { h2_kg: 4, h2_pct: 16 } });
    expect(await statusOf('FL-FUEL')).toMatchObject({ energy: { fuel_pct: 4 } });

    // DTCs clear when the next sample reports none, within a second.
    await publish(connected.get('FL-DTC')!, telemetry('FL-DTC'), healthySample('bev', 3, { dtc: [] }));
    await within(SECOND, async () => expect(await healthOf('FL-DTC')).toMatchObject({ grade: 'ok', reasons: [] }));
    expect(await statusOf('FL-DTC')).toMatchObject({ active_dtc_count: 0 });
  });

  it('grades active alarms by level from published events, and DTC events', async () => {
    const v = await vehicle('FL-ALARM', 'bev');
    const client = await connect(v);
    await publish(client, telemetry(v.id), healthySample('bev', 1));
    await within(SECOND, async () => expect(await healthOf(v.id)).toMatchObject({ grade: 'ok', reasons: [] }));
    const base = Date.now() - 10_000;
    const at = (ms: number) => new Date(base + ms).toISOString();

    // Level 1 (no effect on driving): warn.
    await publish(client, events(v.id), { v: 1, ts: at(1), seq: 1, kind: 'alarm', code: 'SOC_LOW', level: 1, active: true, message: 'SOC 19 %' });
    await within(SECOND, async () => expect(rulesOf(await healthOf(v.id))).toEqual(['active_alarm:warn']));
    expect(await statusOf(v.id)).toMatchObject({ alarm_max_level: 1 });

    // Level 3 (stop now), in an event array: critical, and the fleet summary counts it by level and code.
    await publish(client, events(v.id), [
      { v: 1, ts: at(2), seq: 2, kind: 'alarm', code: 'BATTERY_HIGH_TEMP', level: 3, active: true, message: 'pack 62 °C', data: { temp_max_c: 62 } },
      { v: 1, ts: at(3), seq: 3, kind: 'dtc', code: 'U0100', active: true },
    ]);
    const item = await within(SECOND, async () => {
      const i = await healthOf(v.id);
      expect(rulesOf(i)).toEqual(['active_alarm:critical', 'active_alarm:warn', 'active_dtc:warn']);
      return i;
    });
    expect(item.grade).toBe('critical');
    expect(item.reasons[0]).toMatchObject({ value: 'BATTERY_HIGH_TEMP', threshold: 3 });
    expect(await statusOf(v.id)).toMatchObject({ alarm_max_level: 3, active_dtc_count: 1 });
    const h = await health();
    expect(h.alarms.by_level).toMatchObject({ '1': 1, '3': 1 });
    expect(h.alarms.by_code).toEqual(expect.arrayContaining([{ code: 'BATTERY_HIGH_TEMP', max_level: 3, vehicles: 1 }, { code: 'SOC_LOW', max_level: 1, vehicles: 1 }]));
    expect(h.top_dtcs).toEqual(expect.arrayContaining([{ code: 'U0100', vehicles: 1 }]));
    const alarms = await api.get('/api/v1/alarms?min_level=3', acme.operator);
    expect(alarms.items).toEqual([expect.objectContaining({ vehicle_id: v.id, code: 'BATTERY_HIGH_TEMP', level: 3, message: 'pack 62 °C' })]);

    // Level 2 (degraded): warn.
    await publish(client, events(v.id), { v: 1, ts: at(4), seq: 4, kind: 'alarm', code: 'INSULATION', level: 2, active: true });
    await within(SECOND, async () => expect(rulesOf(await healthOf(v.id))).toContain('active_alarm:warn'));

    // Clearing the level-3 alarm and the DTC: back to warn, within a second.
    await publish(client, events(v.id), [
      { v: 1, ts: at(5), seq: 5, kind: 'alarm', code: 'BATTERY_HIGH_TEMP', level: 3, active: false },
      { v: 1, ts: at(6), seq: 6, kind: 'dtc', code: 'U0100', active: false },
    ]);
    await within(SECOND, async () => expect(await healthOf(v.id)).toMatchObject({ grade: 'warn', reasons: [expect.objectContaining({ rule: 'active_alarm', value: 'INSULATION' }), expect.objectContaining({ rule: 'active_alarm', value: 'SOC_LOW' })] }));
    expect(await statusOf(v.id)).toMatchObject({ alarm_max_level: 2, active_dtc_count: 0 });
    // A late copy of the raise (older than the clear) does not bring the alarm back.
    await publish(client, events(v.id), { v: 1, ts: at(2), seq: 2, kind: 'alarm', code: 'BATTERY_HIGH_TEMP', level: 3, active: true });
    await sleep(200);
    expect((await statusOf(v.id)).alarm_max_level).toBe(2);
    expect((await api.get('/api/v1/alarms?min_level=3', acme.operator)).items).toEqual([]);
  });

  it('marks a vehicle that drops without a goodbye offline (Last Will), then offline too long', async () => {
    const v = await vehicle('FL-GONE', 'bev');
    // A service account watches the vehicle's status topic, to see the Last Will itself.
    const watcherSecret = randomBytes(24).toString('base64url');
    await new ServiceAccountRepository(database.db).upsert('e2e-watch', digestOf(watcherSecret));
    const watch = async (): Promise<{ client: MqttClient; seen: Array<{ payload: string; retain: boolean }> }> => {
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${stack.mqttPort}`, { clientId: 'e2e-watch', username: 'e2e-watch', password: watcherSecret, protocolVersion: 4, reconnectPeriod: 0 });
      clients.push(client);
      const seen: Array<{ payload: string; retain: boolean }> = [];
      client.on('message', (_topic, payload, packet) => seen.push({ payload: payload.toString(), retain: packet.retain }));
      await client.subscribeAsync(`fleet/${v.id}/status`, { qos: 1 });
      return { client, seen };
    };
    const watcher = await watch();

    const client = await connect(v);
    await client.publishAsync(`fleet/${v.id}/status`, JSON.stringify({ v: 1, online: true, fw: '1.4.2-e2e' }), { qos: 1, retain: true });
    await publish(client, telemetry(v.id), healthySample('bev', 1));
    const lastSample = Date.now();
    await within(SECOND, async () => expect(await healthOf(v.id)).toMatchObject({ grade: 'ok', connectivity: 'online' }));
    await within(SECOND, async () => expect((await api.get('/api/v1/vehicles/FL-GONE', acme.operator)).snapshot).toMatchObject({ fw: '1.4.2-e2e', connected: true }));

    // The connection dies (no DISCONNECT): the broker publishes the vehicle's retained Last Will.
    client.stream.destroy();
    await within(SECOND, async () => expect((await statusOf(v.id)).connectivity).toBe('offline'));
    await within(SECOND, async () => expect(watcher.seen.map((m) => m.payload)).toContain('{"v":1,"online":false}'));
    await watcher.client.endAsync();
    const late = await watch(); // a newcomer gets the will from the broker's retained store
    await within(SECOND, async () => expect(late.seen).toEqual([{ payload: '{"v":1,"online":false}', retain: true }]));
    await late.client.endAsync();
    // Offline for a moment is not yet "offline too long".
    const fresh = await healthOf(v.id);
    expect(Date.now() - lastSample).toBeLessThan(OFFLINE_WARN_S * 1000);
    expect(fresh).toMatchObject({ connectivity: 'offline', grade: 'ok', reasons: [] });

    await sleep(Math.max(0, lastSample + OFFLINE_WARN_S * 1000 + 200 - Date.now()));
    const h = await within(SECOND, async () => {
      const answer = await health();
      expect(rulesOf(answer.items.find((i) => i.vehicle_id === v.id)!)).toEqual(['offline_too_long:warn']);
      return answer;
    });
    expect(h.offline_too_long).toEqual(expect.arrayContaining([expect.objectContaining({ vehicle_id: v.id, grade: 'warn' })]));
    // Connected vehicles, however long ago they connected, are never "offline too long".
    for (const id of ['FL-OK-BEV', 'FL-OK-FCEV', 'FL-OK-ICE', 'FL-OK-PHEV']) {
      expect(h.items.find((i) => i.vehicle_id === id)).toMatchObject({ connectivity: 'online', grade: 'ok' });
    }
  });

  it("answers 404 for another tenant's vehicle on every vehicle endpoint, and lists it nowhere", async () => {
    const v = await vehicle('FL-OTHER-1', 'bev', {}, other);
    const client = await connect(v);
    await publish(client, telemetry(v.id), healthySample('bev', 1, { dtc: ['P0A80'], battery: { ...HEALTHY_BATTERY, temp_max_c: 60 } }));
    await publish(client, events(v.id), { v: 1, ts: new Date().toISOString(), seq: 1, kind: 'alarm', code: 'THERMAL_EVENT', level: 3, active: true });
    // Its own tenant sees it (so the 404s below are isolation, not absence).
    await within(SECOND, async () => {
      const own = await api.get('/api/v1/vehicles/FL-OTHER-1', other.operator);
      expect(own.snapshot).toMatchObject({ alarm_max_level: 3, connectivity: 'online' });
    });

    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const endpoints: Array<['GET' | 'POST', string, string]> = [
      ['GET', '/api/v1/vehicles/FL-OTHER-1', acme.operator],
      ['GET', '/api/v1/vehicles/FL-OTHER-1', acme.admin],
      ['GET', `/api/v1/vehicles/FL-OTHER-1/telemetry?from=${from}&to=${to}`, acme.operator],
      ['GET', `/api/v1/vehicles/FL-OTHER-1/telemetry?from=${from}&to=${to}&bucket=5m`, acme.operator],
      ['GET', `/api/v1/vehicles/FL-OTHER-1/events?from=${from}&to=${to}`, acme.operator],
      ['POST', '/api/v1/vehicles/FL-OTHER-1/credentials', acme.admin],
    ];
    for (const [method, path, key] of endpoints) {
      const foreign = await api.request(method, path, key);
      expect(foreign.status, `${method} ${path}`).toBe(404);
      expect(foreign.body).toMatchObject({ error: { code: 'not_found' } });
      // Exactly what a vehicle that does not exist answers: nothing tells the other tenant's vehicle apart.
      const missing = await api.request(method, path.replace('FL-OTHER-1', 'FL-NOBODY-1'), key);
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe(foreign.body.error.code);
    }
    // The rotation was refused: the other tenant's vehicle still logs in with its secret.
    await client.endAsync();
    const again = await connect(v);
    expect(again.connected).toBe(true);

    const lists = [
      '/api/v1/vehicles?limit=1000',
      '/api/v1/fleet/status?limit=1000',
      '/api/v1/fleet/health?limit=1000',
      '/api/v1/alarms?limit=1000',
      `/api/v1/alarms?active=false&from=${from}&to=${to}`,
      `/api/v1/energy?from=${from}&to=${to}&group_by=vehicle`,
    ];
    for (const path of lists) {
      const answer = await api.request('GET', path, acme.operator);
      expect(answer.status, path).toBe(200);
      expect(JSON.stringify(answer.body), path).not.toContain('FL-OTHER-1');
    }
    const h = await health();
    expect(h.alarms.by_code.map((c) => c.code)).not.toContain('THERMAL_EVENT');
    expect((await status()).items.every((i) => i.id.startsWith('FL-') && i.id !== 'FL-OTHER-1')).toBe(true);
    // …and the other tenant sees only its own vehicle.
    expect((await status(other.operator)).items.map((i) => i.id)).toEqual(['FL-OTHER-1']);
  });
});
