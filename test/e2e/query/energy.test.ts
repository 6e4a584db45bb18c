// Issue 5 end to end: GET /api/v1/energy equals hand-computed figures for a fixture of cumulative counters sent over
// MQTT out of order, with duplicates, across a counter reset and an implausible jump, partly as a store-and-forward
// array — for every group_by, over a range with a partial hour at both ends (those come from raw rows, the whole
// hours from energy_hourly, which ingestion filled from the out-of-order stream).
//
// The rule (apps/ingestion/src/energy/energy-increase.ts): order a vehicle's samples by (ts, seq), each repeated
// (ts, seq) once; every consecutive pair adds `later − earlier` of each counter to the hour of the later sample; a
// negative step (reset) adds 0; a step above STEP_LIMITS (maxPerHour × elapsed h + slack) adds 0. A pair counts in
// [from, to) when its later sample does (the earlier one may lie before `from`).
//
// Time: T0 = UTC midnight three days ago (inside the accepted window of now − 35 d … now + 5 min). Day 0 is the day
// before T0, day 1 the day of T0. The range is [T0 − 1 h 30 min, T0 + 2 h 15 min) = [22:30 day 0, 02:15 day 1): head
// [22:30, 23:00) and tail [02:00, 02:15) are partial hours; 23:00, 00:00 and 01:00 are whole.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { STEP_LIMITS } from '../../../apps/ingestion/src/energy/energy-increase.js';
import { EnergyReportRepository } from '../../../libs/db/src/index.js';
import { createTestDatabase, describeEachBackend, type TestDatabase } from '../../setup/database.js';
import { type Api, apiClient, connectVehicle, provision, publish, seedTenant, type Stack, startTestStack, type TenantKeys } from '../support/stack.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
const T0 = Math.floor((Date.now() - 3 * DAY) / DAY) * DAY;
const at = (minutes: number): string => new Date(T0 + minutes * MINUTE).toISOString();
const DAY0 = new Date(T0 - DAY).toISOString().slice(0, 10);
const DAY1 = new Date(T0).toISOString().slice(0, 10);
const FROM = at(-90); // 22:30 day 0
const TO = at(135); // 02:15 day 1

// ── The fixture ────────────────────────────────────────────────────────────────────────────────────────────────────
// EN-A: bev road sweeper (odometer, traction, body, regen, body hours). t = minutes from T0.
//  seq   t     time         odo    trac     body   regen  body h   pair → its hour: Δodo Δtrac Δbody Δregen Δbodyh
//   1  −100   22:20 d0     1000    500      100    50     200.0    (before `from`: only the predecessor of seq 2)
//   2   −80   22:40 d0     1003    504      101    50.5   200.2    1→2  head:  3  4    1    0.5  0.2
//   3   −70   22:50 d0     1005    507      101.5  51     200.3    2→3  head:  2  3    0.5  0.5  0.1
//   4   −50   23:10 d0     1009    512      103    51     200.6    3→4  23h:   4  5    1.5  0    0.3
//   5   −30   23:30 d0     1010      2      103.5   0.5   200.8    4→5  23h:   1  0ᴿ   0.5  0ᴿ   0.2   (ᴿ reset: negative step)
//   6   −10   23:50 d0     1012      6      104     1     201.0    5→6  23h:   2  4    0.5  0.5  0.2
//   7    10   00:10 d1     1015     11      105     1.5   201.3    6→7  00h:   3  5    1    0.5  0.3
//   8    20   00:20 d1     1016 100011      105.5   1.5   201.4    7→8  00h:   1  0ᴶ   0.5  0    0.1   (ᴶ +100000 kWh in 10 min > 2000 × 1/6 + 1)
//   9    30   00:30 d1     1018     14      106     2     201.5    8→9  00h:   2  0ᴿ   0.5  0.5  0.1
//  10    70   01:10 d1     1024     20      107     2.5   202.0    9→10 01h:   6  6    1    0.5  0.5
//  11   110   01:50 d1     1030     27      108     3     202.4   10→11 01h:   6  7    1    0.5  0.4
//  12   125   02:05 d1     1033     30      108.5   3.5   202.6   11→12 tail:  3  3    0.5  0.5  0.2
//  13   140   02:20 d1     1036     33      109     4     202.8   12→13 02:20 ≥ `to`: not in the range
// EN-A in range: odo 3+2+4+1+2+3+1+2+6+6+3 = 33; trac 4+3+5+0+4+5+0+0+6+7+3 = 37;
//   body 1+.5+1.5+.5+.5+1+.5+.5+1+1+.5 = 8.5; regen .5+.5+0+0+.5+.5+0+.5+.5+.5+.5 = 4; body h .2+.1+.3+.2+.2+.3+.1+.1+.5+.4+.2 = 2.6
//   day 0 (pairs into 22:40…23:50): odo 3+2+4+1+2 = 12; trac 4+3+5+0+4 = 16; body 1+.5+1.5+.5+.5 = 4; regen .5+.5+0+0+.5 = 1.5; body h .2+.1+.3+.2+.2 = 1
//   day 1: odo 33−12 = 21; trac 37−16 = 21; body 8.5−4 = 4.5; regen 4−1.5 = 2.5; body h 2.6−1 = 1.6
//   whole hours only (23h, 00h, 01h): odo 7+6+12 = 25; trac 9+5+13 = 27; body 2.5+2+2 = 6.5; regen .5+1+1 = 2.5; body h .7+.5+.9 = 2.1
function sampleA(seq: number, t: number, odo: number, trac: number, body: number, regen: number, bodyHours: number) {
  return {
    v: 1,
    ts: at(t),
    seq,
    odometer_km: odo,
    state: 'working',
    battery: { soc_pct: 60 },
    energy: { traction_kwh: trac, body_kwh: body, regen_kwh: regen },
    body: { type: 'sweeper', active: true, power_kw: 12, hours: bodyHours },
  };
}
const A = {
  1: sampleA(1, -100, 1000, 500, 100, 50, 200.0),
  2: sampleA(2, -80, 1003, 504, 101, 50.5, 200.2),
  3: sampleA(3, -70, 1005, 507, 101.5, 51, 200.3),
  4: sampleA(4, -50, 1009, 512, 103, 51, 200.6),
  5: sampleA(5, -30, 1010, 2, 103.5, 0.5, 200.8),
  6: sampleA(6, -10, 1012, 6, 104, 1, 201.0),
  7: sampleA(7, 10, 1015, 11, 105, 1.5, 201.3),
  8: sampleA(8, 20, 1016, 100011, 105.5, 1.5, 201.4),
  9: sampleA(9, 30, 1018, 14, 106, 2, 201.5),
  10: sampleA(10, 70, 1024, 20, 107, 2.5, 202.0),
  11: sampleA(11, 110, 1030, 27, 108, 3, 202.4),
  12: sampleA(12, 125, 1033, 30, 108.5, 3.5, 202.6),
  13: sampleA(13, 140, 1036, 33, 109, 4, 202.8),
};

// EN-B: fcev road sweeper (odometer, traction, hydrogen used).
//  seq   t     time        odo  trac  h2      pair → hour
//  100  −85   22:35 d0     200   50   10.0    (no predecessor: nothing)
//  101  −20   23:40 d0     230   80   12.5    100→101 23h: 30 30 2.5   (65 min: 30 km ≤ 400 × 65/60 + 1; 2.5 kg ≤ 60 × 65/60 + 0.1)
//  102   50   00:50 d1     260  110   15.0    101→102 00h: 30 30 2.5
//  103  130   02:10 d1     290  140   17.5    102→103 tail: 30 30 2.5
// EN-B: odo 90, trac 90, h2 7.5; day 0: 30 30 2.5; day 1: 60 60 5; whole hours (23h, 00h): 60 60 5
const sampleB = (seq: number, t: number, odo: number, trac: number, h2: number) => ({
  v: 1,
  ts: at(t),
  seq,
  odometer_km: odo,
  battery: { soc_pct: 40 },
  hydrogen: { mass_kg: 20 },
  energy: { traction_kwh: trac, h2_used_kg: h2 },
  body: { type: 'sweeper', active: true },
});
const B = { 100: sampleB(100, -85, 200, 50, 10), 101: sampleB(101, -20, 230, 80, 12.5), 102: sampleB(102, 50, 260, 110, 15), 103: sampleB(103, 130, 290, 140, 17.5) };

// EN-C: ice garbage compactor (odometer, fuel used, engine hours).
//  seq   t     time        odo   fuel  eng h    pair → hour
//   1   −95   22:25 d0     5000  300   100.0
//   2   −75   22:45 d0     5004  302   100.3    1→2 head: 4 2 0.3
//   3     5   00:05 d1     5014  307   101.5    2→3 00h: 10 5 1.2   (80 min: 1.2 h ≤ 1 × 80/60 + 0.1)
//   4   135   02:15 d1     5030  315   103.6    3→4 at 02:15 = `to`, which is exclusive: not in the range
// EN-C: odo 14, fuel 7, engine h 1.5; day 0: 4 2 0.3; day 1: 10 5 1.2; whole hours (00h): 10 5 1.2
const sampleC = (seq: number, t: number, odo: number, fuel: number, engineHours: number) => ({
  v: 1,
  ts: at(t),
  seq,
  odometer_km: odo,
  fuel: { level_pct: 55 },
  energy: { fuel_used_l: fuel, engine_hours: engineHours },
  body: { type: 'compactor', active: false },
});
const C = { 1: sampleC(1, -95, 5000, 300, 100), 2: sampleC(2, -75, 5004, 302, 100.3), 3: sampleC(3, 5, 5014, 307, 101.5), 4: sampleC(4, 135, 5030, 315, 103.6) };

// EN-D: bev delivery van, parked and charging (odometer, traction, charged).
//   1   −60   23:00 d0   odo 800  trac 300  charged 1000
//   2    60   01:00 d1   odo 800  trac 300  charged 1060     1→2 01h: charged 60 (120 min: ≤ 2000 × 2 + 1)
// EN-D: charged 60 (day 1, and in the whole hours)
const sampleD = (seq: number, t: number, charged: number) => ({ v: 1, ts: at(t), seq, odometer_km: 800, state: 'charging', energy: { traction_kwh: 300, charged_kwh: charged } });

// OT-1: another tenant's vehicle with energy in the range; it must count nowhere.
const sampleOther = (seq: number, t: number, odo: number, trac: number) => ({ v: 1, ts: at(t), seq, odometer_km: odo, energy: { traction_kwh: trac } });

type Sums = Partial<Record<'distance_km' | 'traction_kwh' | 'body_kwh' | 'regen_kwh' | 'charged_kwh' | 'h2_kg' | 'fuel_l' | 'engine_hours' | 'body_hours', number>>;
const SUMS = ['distance_km', 'traction_kwh', 'body_kwh', 'regen_kwh', 'charged_kwh', 'h2_kg', 'fuel_l', 'engine_hours', 'body_hours'] as const;

const EN_A: Sums = { distance_km: 33, traction_kwh: 37, body_kwh: 8.5, regen_kwh: 4, body_hours: 2.6 };
const EN_B: Sums = { distance_km: 90, traction_kwh: 90, h2_kg: 7.5 };
const EN_C: Sums = { distance_km: 14, fuel_l: 7, engine_hours: 1.5 };
const EN_D: Sums = { charged_kwh: 60 };
// A + B (both road sweepers with a sweeper body): odo 33+90 = 123; trac 37+90 = 127; body 8.5; regen 4; h2 7.5; body h 2.6
const SWEEPERS: Sums = { distance_km: 123, traction_kwh: 127, body_kwh: 8.5, regen_kwh: 4, h2_kg: 7.5, body_hours: 2.6 };
// A + D (the two bev): odo 33+0 = 33; trac 37+0 = 37; body 8.5; regen 4; charged 0+60 = 60; body h 2.6
const BEV: Sums = { distance_km: 33, traction_kwh: 37, body_kwh: 8.5, regen_kwh: 4, charged_kwh: 60, body_hours: 2.6 };
// Day 0 = A₀ + B₀ + C₀: odo 12+30+4 = 46; trac 16+30 = 46; body 4; regen 1.5; h2 2.5; fuel 2; engine h 0.3; body h 1
const ON_DAY0: Sums = { distance_km: 46, traction_kwh: 46, body_kwh: 4, regen_kwh: 1.5, h2_kg: 2.5, fuel_l: 2, engine_hours: 0.3, body_hours: 1 };
// Day 1 = A₁ + B₁ + C₁ + D₁: odo 21+60+10 = 91; trac 21+60 = 81; body 4.5; regen 2.5; charged 60; h2 5; fuel 5; engine h 1.2; body h 1.6
const ON_DAY1: Sums = { distance_km: 91, traction_kwh: 81, body_kwh: 4.5, regen_kwh: 2.5, charged_kwh: 60, h2_kg: 5, fuel_l: 5, engine_hours: 1.2, body_hours: 1.6 };

interface EnergyRow extends Record<string, unknown> {
  key: string;
  vehicles: number;
}

function expectSums(row: EnergyRow | undefined, expected: Sums, label: string): void {
  expect(row, label).toBeDefined();
  for (const column of SUMS) expect(row![column] as number, `${label} ${column}`).toBeCloseTo(expected[column] ?? 0, 6);
}

describeEachBackend('energy report from counters sent over MQTT (embedded stack)', (backend) => {
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
    stack = await startTestStack(database);
    api = apiClient(stack.httpPort);
    const vehicles = [
      { id: 'EN-A', type: 'road_sweeper', body_type: 'sweeper', powertrain: 'bev', keys: acme },
      { id: 'EN-B', type: 'road_sweeper', body_type: 'sweeper', powertrain: 'fcev', keys: acme },
      { id: 'EN-C', type: 'garbage_compactor', body_type: 'compactor', powertrain: 'ice', keys: acme },
      { id: 'EN-D', type: 'delivery_van', body_type: 'none', powertrain: 'bev', keys: acme },
      { id: 'OT-1', type: 'road_sweeper', body_type: 'sweeper', powertrain: 'bev', keys: other },
    ];
    const connected: Record<string, MqttClient> = {};
    for (const { keys, ...body } of vehicles) {
      const v = await provision(api, keys.admin, body);
      connected[v.id] = await connectVehicle(stack.mqttPort, v);
      clients.push(connected[v.id]!);
    }
    const send = (id: string, payload: unknown) => publish(connected[id]!, `fleet/${id}/telemetry`, payload);

    // EN-A, out of order, with duplicates, a store-and-forward backlog as an array, and some messages in flight together.
    await send('EN-A', A[6]);
    await send('EN-A', A[11]);
    await send('EN-A', A[1]);
    await send('EN-A', [A[2], A[3], A[4], A[5]]); // the backlog a vehicle flushes after an outage
    await Promise.all([send('EN-A', A[13]), send('EN-A', A[9])]);
    await send('EN-A', A[6]); // re-sent (lost PUBACK)
    await send('EN-A', [A[7], A[8]]);
    await Promise.all([send('EN-A', [A[3], A[4]]), send('EN-A', A[12])]); // a re-sent part of the backlog
    await send('EN-A', A[10]);
    await send('EN-A', A[10]);
    // EN-B newest first, one duplicated inside an array.
    await send('EN-B', B[103]);
    await send('EN-B', B[101]);
    await send('EN-B', [B[100], B[101]]);
    await send('EN-B', B[102]);
    // EN-C entirely backwards.
    for (const seq of [4, 3, 2, 1] as const) await send('EN-C', C[seq]);
    await send('EN-D', [sampleD(1, -60, 1000), sampleD(2, 60, 1060)]);
    await send('OT-1', [sampleOther(1, -40, 0, 0), sampleOther(2, -30, 10, 50)]);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await stack?.stop();
    await database?.drop();
  });

  const report = async (groupBy: string, from = FROM, to = TO): Promise<{ from: string; to: string; group_by: string; items: EnergyRow[] }> =>
    api.get(`/api/v1/energy?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&group_by=${groupBy}`, acme.operator);
  const byKey = (items: EnergyRow[]) => Object.fromEntries(items.map((i) => [i.key, i]));

  it('stored every sample once, and nothing was dead-lettered', async () => {
    const rows = await database.db.selectFrom('telemetry').select(['vehicle_id', 'seq']).orderBy('vehicle_id').orderBy('seq').execute();
    const seqs = (id: string) => rows.filter((r) => r.vehicle_id === id).map((r) => r.seq);
    expect(seqs('EN-A')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(seqs('EN-B')).toEqual([100, 101, 102, 103]);
    expect(seqs('EN-C')).toEqual([1, 2, 3, 4]);
    expect(seqs('EN-D')).toEqual([1, 2]);
    expect(await database.db.selectFrom('dead_letters').select('reason').execute()).toEqual([]);
  });

  it('group_by=vehicle: hand-computed sums and derived figures, partial hours at both ends included', async () => {
    const answer = await report('vehicle');
    expect(answer).toMatchObject({ from: FROM, to: TO, group_by: 'vehicle' });
    expect(answer.items.map((i) => i.key)).toEqual(['EN-A', 'EN-B', 'EN-C', 'EN-D']);
    const rows = byKey(answer.items);
    expectSums(rows['EN-A'], EN_A, 'EN-A');
    expectSums(rows['EN-B'], EN_B, 'EN-B');
    expectSums(rows['EN-C'], EN_C, 'EN-C');
    expectSums(rows['EN-D'], EN_D, 'EN-D');
    expect(rows['EN-A']).toMatchObject({ vehicle: 'EN-A', vehicles: 1 });

    // EN-A: energy = 37 + 8.5 = 45.5 kWh; 45.5 / 33 km × 100 = 137.878788 kWh/100 km; body share 8.5 / 45.5 = 0.186813;
    // 8.5 kWh / 2.6 body h = 3.269231 kW; nothing charged, no hydrogen, no diesel → 0 kWh-equivalent and 0 CO2.
    const a = rows['EN-A'] as Record<string, number>;
    expect(a.energy_kwh).toBeCloseTo(45.5, 6);
    expect(a.kwh_per_100km).toBeCloseTo(137.878788, 5);
    expect(a.body_share).toBeCloseTo(0.186813, 5);
    expect(a.body_kwh_per_hour).toBeCloseTo(3.269231, 5);
    expect(a.kwh_equivalent).toBe(0);
    expect(a.co2_kg).toBe(0);
    // EN-B: 90 kWh / 90 km = 100 kWh/100 km; 7.5 kg / 90 km × 100 = 8.333333 kg/100 km; 7.5 kg × 33.33 kWh/kg = 249.975
    // kWh-eq (277.75 per 100 km); 7.5 kg × 10 kg CO2/kg = 75 kg CO2; no body energy → share 0, no body hours → null.
    const b = rows['EN-B'] as Record<string, number | null>;
    expect(b.kwh_per_100km).toBeCloseTo(100, 6);
    expect(b.h2_kg_per_100km).toBeCloseTo(8.333333, 5);
    expect(b.kwh_equivalent).toBeCloseTo(249.975, 6);
    expect(b.kwh_equivalent_per_100km).toBeCloseTo(277.75, 6);
    expect(b.co2_kg).toBeCloseTo(75, 6);
    expect(b.body_share).toBe(0);
    expect(b.body_kwh_per_hour).toBeNull();
    // EN-C: 7 L / 14 km × 100 = 50 L/100 km; 7 L × 9.95 kWh/L = 69.65 kWh-eq; 7 L × 2.66 = 18.62 kg CO2 (133 per 100 km);
    // no electrical energy → body share null.
    const c = rows['EN-C'] as Record<string, number | null>;
    expect(c.fuel_l_per_100km).toBeCloseTo(50, 6);
    expect(c.kwh_equivalent).toBeCloseTo(69.65, 6);
    expect(c.co2_kg).toBeCloseTo(18.62, 6);
    expect(c.co2_kg_per_100km).toBeCloseTo(133, 6);
    expect(c.body_share).toBeNull();
    // EN-D: 60 kWh charged = 60 kWh-eq; 60 × 0.5366 = 32.196 kg CO2; no distance → every per-100-km figure null.
    const d = rows['EN-D'] as Record<string, number | null>;
    expect(d.kwh_equivalent).toBeCloseTo(60, 6);
    expect(d.co2_kg).toBeCloseTo(32.196, 6);
    expect(d.kwh_per_100km).toBeNull();
    expect(d.co2_kg_per_100km).toBeNull();
  });

  it('group_by=type', async () => {
    const { items } = await report('type');
    expect(items.map((i) => i.key)).toEqual(['delivery_van', 'garbage_compactor', 'road_sweeper']);
    const rows = byKey(items);
    expectSums(rows.delivery_van, EN_D, 'delivery_van');
    expectSums(rows.garbage_compactor, EN_C, 'garbage_compactor');
    expectSums(rows.road_sweeper, SWEEPERS, 'road_sweeper');
    expect(rows.road_sweeper).toMatchObject({ type: 'road_sweeper', vehicles: 2 });
  });

  it('group_by=body_type', async () => {
    const { items } = await report('body_type');
    expect(items.map((i) => i.key)).toEqual(['compactor', 'none', 'sweeper']);
    const rows = byKey(items);
    expectSums(rows.compactor, EN_C, 'compactor');
    expectSums(rows.none, EN_D, 'none');
    expectSums(rows.sweeper, SWEEPERS, 'sweeper');
    expect(rows.sweeper).toMatchObject({ body_type: 'sweeper', vehicles: 2 });
    // Sweeper body share: 8.5 / (127 + 8.5) = 0.062731
    expect(rows.sweeper!.body_share as number).toBeCloseTo(0.062731, 5);
  });

  it('group_by=powertrain', async () => {
    const { items } = await report('powertrain');
    expect(items.map((i) => i.key)).toEqual(['bev', 'fcev', 'ice']);
    const rows = byKey(items);
    expectSums(rows.bev, BEV, 'bev');
    expectSums(rows.fcev, EN_B, 'fcev');
    expectSums(rows.ice, EN_C, 'ice');
    expect(rows.bev).toMatchObject({ powertrain: 'bev', vehicles: 2 });
    // bev kWh-equivalent = charged 60; CO2 = 60 × 0.5366 = 32.196
    expect(rows.bev!.kwh_equivalent as number).toBeCloseTo(60, 6);
    expect(rows.bev!.co2_kg as number).toBeCloseTo(32.196, 6);
  });

  it('group_by=day (UTC)', async () => {
    const { items } = await report('day');
    expect(items.map((i) => i.key)).toEqual([DAY0, DAY1]);
    const rows = byKey(items);
    expectSums(rows[DAY0], ON_DAY0, DAY0);
    expectSums(rows[DAY1], ON_DAY1, DAY1);
    expect(rows[DAY1]).toMatchObject({ day: DAY1 });
  });

  it('whole hours only (the rollup ingestion filled) and a range inside one hour (raw rows only) agree with the fixture', async () => {
    // [23:00 day 0, 02:00 day 1): hours 23, 00, 01 — see "whole hours only" in the fixture comments.
    const whole = byKey((await report('vehicle', at(-60), at(120))).items);
    expectSums(whole['EN-A'], { distance_km: 25, traction_kwh: 27, body_kwh: 6.5, regen_kwh: 2.5, body_hours: 2.1 }, 'EN-A whole hours');
    expectSums(whole['EN-B'], { distance_km: 60, traction_kwh: 60, h2_kg: 5 }, 'EN-B whole hours');
    expectSums(whole['EN-C'], { distance_km: 10, fuel_l: 5, engine_hours: 1.2 }, 'EN-C whole hours');
    expectSums(whole['EN-D'], { charged_kwh: 60 }, 'EN-D whole hours');
    // [23:25, 23:55) day 0: EN-A pairs 4→5 (23:30) and 5→6 (23:50): odo 1+2 = 3; trac 0+4 = 4 (reset); body .5+.5 = 1;
    // regen 0+.5 = .5; body h .2+.2 = .4. EN-B's 23:40 pair: 30 30 2.5.
    const inside = byKey((await report('vehicle', at(-35), at(-5))).items);
    expectSums(inside['EN-A'], { distance_km: 3, traction_kwh: 4, body_kwh: 1, regen_kwh: 0.5, body_hours: 0.4 }, 'EN-A inside 23h');
    expectSums(inside['EN-B'], { distance_km: 30, traction_kwh: 30, h2_kg: 2.5 }, 'EN-B inside 23h');
    expectSums(inside['EN-C'], {}, 'EN-C inside 23h');
  });

  it('whole UTC days (energy_daily, moved by ingestion\'s writes to energy_hourly) equal the raw computation, for every group_by', async () => {
    const days = await database.db.selectFrom('energy_daily').select(['day', 'hours']).where('vehicle_id', '=', 'EN-A').orderBy('day').execute();
    expect(days.map((d) => d.day.toISOString().slice(0, 10))).toEqual([DAY0, DAY1]);
    const repo = new EnergyReportRepository(database.db);
    // Two whole days; and the same with partial hours and whole hours of partial days around them.
    for (const [from, to] of [
      [at(-24 * 60), at(24 * 60)],
      [at(-24 * 60 - 90), at(24 * 60 + 135)],
    ] as const) {
      for (const groupBy of ['vehicle', 'type', 'body_type', 'powertrain', 'day'] as const) {
        // The service lists days without figures as zeros; the repository answers only days with figures.
        const items = (await report(groupBy, from, to)).items.filter((i) => groupBy !== 'day' || i.vehicles > 0);
        const raw = await repo.reportFromRaw({ tenantId: 'acme', from: new Date(from), to: new Date(to), groupBy, stepLimits: STEP_LIMITS });
        expect(items.map((i) => [i.key, i.vehicles]), `${from} ${groupBy}`).toEqual(raw.map((r) => [r.key, r.vehicles]));
        raw.forEach((r, i) => expectSums(items[i], r, `${from} ${groupBy} ${r.key}`));
      }
    }
  });

  it("does not count another tenant's vehicle, which its own tenant sees", async () => {
    for (const groupBy of ['vehicle', 'type', 'body_type', 'powertrain', 'day']) {
      expect(JSON.stringify(await report(groupBy)), groupBy).not.toContain('OT-1');
    }
    // OT-1: pair 1→2 at 23:30 day 0: odo 10, trac 50.
    const own = await api.get(`/api/v1/energy?from=${encodeURIComponent(FROM)}&to=${encodeURIComponent(TO)}&group_by=vehicle`, other.operator);
    expect(own.items.map((i: EnergyRow) => i.key)).toEqual(['OT-1']);
    expectSums(own.items[0], { distance_km: 10, traction_kwh: 50 }, 'OT-1');
  });
});
