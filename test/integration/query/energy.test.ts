// GET /api/v1/energy: whole hours from energy_hourly, whole 10-minute buckets from energy_10min, plus the rest of
// partial hours from raw telemetry, equal to hand-computed figures (counter reset, implausible jump and a missing
// counter included), for every group_by; and equal to the computation over raw rows alone when energy_hourly and
// energy_10min hold what ingestion's reference rule gives.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ENERGY_COLUMNS, STEP_LIMITS, compareSample, stepIncrease, hourlyIncreases, type CounterSample } from '../../../apps/ingestion/src/energy/energy-increase.js';
import { EnergyReportRepository } from '../../../libs/db/src/repositories/energy-report.repository.js';
import type { NewEnergyHourlyRow, NewTelemetryRow } from '../../../libs/db/src/index.js';
import { describeEachBackend } from '../../setup/database.js';
import { type QueryHarness, referenceBuckets, seedTelemetry, seedVehicle, startQueryHarness } from './harness.js';

const T = (hhmmss: string) => new Date(`2026-11-20T${hhmmss}Z`);

function sample(vehicle_id: string, ts: string, seq: number, c: Partial<NewTelemetryRow>): NewTelemetryRow {
  return { vehicle_id, ts: T(ts), seq, received_at: T(ts), ...c };
}

describeEachBackend('energy report', (backend) => {
  let h: QueryHarness;
  beforeAll(async () => {
    h = await startQueryHarness(backend);
    await seedVehicle(h.database, { id: 'E-BEV', type: 'road_sweeper', bodyType: 'sweeper', powertrain: 'bev' });
    await seedVehicle(h.database, { id: 'E-ICE', type: 'garbage_compactor', bodyType: 'compactor', powertrain: 'ice' });
    await seedVehicle(h.database, { id: 'O-1', tenantId: 'other', type: 'road_sweeper', bodyType: 'sweeper', powertrain: 'bev' });
    const hourly = (vehicle_id: string, hour: string, v: Record<string, number>) => ({ vehicle_id, hour: T(hour), ...v });
    await h.database.db
      .insertInto('energy_hourly')
      .values([
        // Hours only partly inside [10:30, 13:15): must not be used (their partial parts come from raw rows).
        hourly('E-BEV', '10:00:00', { distance_km: 100, traction_kwh: 100 }),
        hourly('E-BEV', '13:00:00', { distance_km: 100, traction_kwh: 100 }),
        hourly('E-BEV', '11:00:00', { distance_km: 10, traction_kwh: 20, body_kwh: 5, regen_kwh: 2, body_hours: 0.8 }),
        hourly('E-BEV', '12:00:00', { distance_km: 12, traction_kwh: 22, body_kwh: 6, body_hours: 1 }),
        hourly('E-ICE', '12:00:00', { distance_km: 20, fuel_l: 8, engine_hours: 1 }),
        hourly('O-1', '11:00:00', { distance_km: 999, traction_kwh: 999 }),
      ])
      .execute();
    const telemetry = [
      // Head [10:30, 11:00): the pair 10:20 → 10:40 counts (its earlier sample lies before `from`).
      sample('E-BEV', '10:20:00', 1, { odometer_km: 1000, traction_kwh: 500, body_kwh: 100, body_hours: 50 }),
      sample('E-BEV', '10:40:00', 2, { odometer_km: 1005, traction_kwh: 510, body_kwh: 102, body_hours: 50.3 }),
      // odometer steps back (reset): 0 for that pair
      sample('E-BEV', '10:50:00', 3, { odometer_km: 1003, traction_kwh: 512, body_kwh: 102, body_hours: 50.4 }),
      // traction jumps by 100 000 kWh in 5 min (reboot glitch): 0 for that pair
      sample('E-BEV', '10:55:00', 4, { odometer_km: 1004, traction_kwh: 100512, body_kwh: 102, body_hours: 50.45 }),
      // Tail [13:00, 13:15)
      sample('E-BEV', '12:58:00', 10, { odometer_km: 1100, traction_kwh: 700, body_kwh: 150, body_hours: 53 }),
      sample('E-BEV', '13:05:00', 11, { odometer_km: 1103, traction_kwh: 704, body_kwh: 151, body_hours: 53.1 }),
      // body_kwh missing: breaks that counter's chain only
      sample('E-BEV', '13:10:00', 12, { odometer_km: 1104, traction_kwh: 705, body_kwh: null, body_hours: 53.2 }),
      sample('E-BEV', '13:20:00', 13, { odometer_km: 1110, traction_kwh: 710, body_kwh: 160, body_hours: 53.3 }),
      sample('E-ICE', '10:45:00', 1, { odometer_km: 5000, fuel_used_l: 300, engine_hours: 100 }),
      sample('E-ICE', '10:59:59', 2, { odometer_km: 5010, fuel_used_l: 302, engine_hours: 100.25 }),
      sample('O-1', '10:50:00', 1, { odometer_km: 1, traction_kwh: 1 }),
      sample('O-1', '10:55:00', 2, { odometer_km: 2, traction_kwh: 2 }),
    ];
    await seedTelemetry(h.database, telemetry);
    // The 10-minute buckets as ingestion makes them of these samples (the hand-made hour rows above are not the sums
    // of theirs: a partial hour read from its hour row would show).
    await h.database.db.insertInto('energy_10min').values(referenceBuckets(telemetry)).execute();
  });
  afterAll(async () => h?.close());

  const range = 'from=2026-11-20T10:30:00Z&to=2026-11-20T13:15:00Z';
  // Hand-computed: whole hours 11:00 and 12:00 from energy_hourly, plus the pairs listed above.
  const BEV = { distance_km: 22 + (5 + 0 + 1) + (3 + 1), traction_kwh: 42 + (10 + 2 + 0) + (4 + 1), body_kwh: 11 + 2 + 1, regen_kwh: 2, body_hours: 1.8 + 0.45 + 0.2, fuel_l: 0, engine_hours: 0 };
  const ICE = { distance_km: 20 + 10, traction_kwh: 0, body_kwh: 0, regen_kwh: 0, body_hours: 0, fuel_l: 8 + 2, engine_hours: 1.25 };

  function expectSums(row: Record<string, number>, expected: Record<string, number>): void {
    for (const [k, v] of Object.entries(expected)) expect(row[k], k).toBeCloseTo(v, 9);
  }

  it('groups by vehicle with exact partial hours and derived figures', async () => {
    const r = await h.request('GET', `/api/v1/energy?${range}&group_by=vehicle`, h.keys.acme.operator);
    expect(r.status).toBe(200);
    expect(r.body.items.map((i: { key: string }) => i.key)).toEqual(['E-BEV', 'E-ICE']);
    const [bev, ice] = r.body.items;
    expectSums(bev, BEV);
    expectSums(ice, ICE);
    expect(bev.vehicle).toBe('E-BEV');
    expect(bev.energy_kwh).toBeCloseTo(73, 9);
    expect(bev.kwh_per_100km).toBeCloseTo((73 / 32) * 100, 9);
    expect(bev.body_share).toBeCloseTo(14 / 73, 9);
    expect(bev.body_kwh_per_hour).toBeCloseTo(14 / 2.45, 9);
    expect(bev.kwh_equivalent).toBe(0); // nothing charged in the range
    expect(ice.fuel_l_per_100km).toBeCloseTo((10 / 30) * 100, 9);
    expect(ice.kwh_equivalent).toBeCloseTo(10 * 9.95, 9);
    expect(ice.co2_kg).toBeCloseTo(10 * 2.66, 9);
    expect(ice.body_share).toBeNull();
    expect(r.body.conversion_factors).toEqual({ diesel_kwh_per_l: 9.95, h2_kwh_per_kg: 33.33, grid_kg_co2_per_kwh: 0.5366, diesel_kg_co2_per_l: 2.66, h2_kg_co2_per_kg: 10 });
  });

  it('groups by type, body_type, powertrain and day', async () => {
    const get = async (g: string) => (await h.request('GET', `/api/v1/energy?${range}&group_by=${g}`, h.keys.acme.operator)).body.items;
    const byType = await get('type');
    expect(byType.map((i: { type: string }) => i.type)).toEqual(['garbage_compactor', 'road_sweeper']);
    expectSums(byType[1], BEV);
    expect(byType[1].vehicles).toBe(1);
    const byBody = await get('body_type');
    expect(byBody.map((i: { key: string }) => i.key)).toEqual(['compactor', 'sweeper']);
    expectSums(byBody[0], ICE);
    const byPowertrain = await get('powertrain');
    expect(byPowertrain.map((i: { key: string }) => i.key)).toEqual(['bev', 'ice']);
    expectSums(byPowertrain[0], BEV);
    const byDay = await get('day');
    expect(byDay).toHaveLength(1);
    expect(byDay[0].day).toBe('2026-11-20');
    expect(byDay[0].vehicles).toBe(2);
    expectSums(byDay[0], { distance_km: BEV.distance_km + ICE.distance_km, traction_kwh: BEV.traction_kwh, fuel_l: ICE.fuel_l, body_hours: BEV.body_hours });
  });

  it('lists days without figures as zeros', async () => {
    const r = await h.request('GET', '/api/v1/energy?from=2026-11-19&to=2026-11-21&group_by=day', h.keys.acme.operator);
    expect(r.body.items.map((i: { day: string }) => i.day)).toEqual(['2026-11-19', '2026-11-20']);
    expect(r.body.items[0].distance_km).toBe(0);
  });

  it('equals the computation over raw rows when energy_hourly holds what the ingestion rule gives', async () => {
    // A vehicle with a 6-hour history every 7 minutes, a counter reset and a glitch; its energy_hourly is filled
    // with ingestion's reference function, as ingestion would.
    await seedVehicle(h.database, { id: 'R-1', type: 'sprinkler', bodyType: 'sprinkler', powertrain: 'phev' });
    const samples: CounterSample[] = [];
    const rows: NewTelemetryRow[] = [];
    let odo = 100;
    let kwh = 1000;
    let fuel = 50;
    for (let i = 0; i < 52; i++) {
      const tsMs = Date.parse('2026-11-21T06:03:00Z') + i * 7 * 60_000;
      odo += 2.5;
      kwh += i === 20 ? -900 : 3.25; // reset at i = 20
      fuel += i === 33 ? 5000 : 0.4; // implausible jump at i = 33 (and back down after it)
      if (i === 34) fuel -= 5000;
      const counters = { distance_km: odo, traction_kwh: kwh, fuel_l: fuel };
      samples.push({ tsMs, seq: i, counters });
      rows.push({ vehicle_id: 'R-1', ts: new Date(tsMs), seq: i, odometer_km: odo, traction_kwh: kwh, fuel_used_l: fuel });
    }
    await seedTelemetry(h.database, rows);
    const hourly = [...hourlyIncreases(samples).entries()].map(([hour, inc]) => ({ vehicle_id: 'R-1', hour: new Date(hour), ...inc }));
    await h.database.db.insertInto('energy_hourly').values(hourly).execute();
    await h.database.db.insertInto('energy_10min').values(referenceBuckets(rows)).execute();

    const sorted = [...samples].sort(compareSample);
    const reference = (fromMs: number, toMs: number) => {
      const out: Record<string, number> = Object.fromEntries(ENERGY_COLUMNS.map((c) => [c, 0]));
      for (let i = 1; i < sorted.length; i++) {
        const prev = sorted[i - 1]!;
        const next = sorted[i]!;
        if (next.tsMs < fromMs || next.tsMs >= toMs) continue;
        for (const c of ENERGY_COLUMNS) out[c]! += stepIncrease(c, prev.counters[c], prev.tsMs, next.counters[c], next.tsMs);
      }
      return out;
    };
    const repo = new EnergyReportRepository(h.database.db);
    for (const [from, to] of [
      ['2026-11-21T06:00:00Z', '2026-11-21T12:00:00Z'],
      ['2026-11-21T06:17:31Z', '2026-11-21T11:41:02Z'],
      ['2026-11-21T08:10:00Z', '2026-11-21T08:50:00Z'],
      ['2026-11-21T07:59:59Z', '2026-11-21T10:00:01Z'],
    ] as const) {
      const expected = reference(Date.parse(from), Date.parse(to));
      const r = await h.request('GET', `/api/v1/energy?from=${from}&to=${to}&group_by=vehicle`, h.keys.acme.operator);
      const row = r.body.items.find((i: { key: string }) => i.key === 'R-1');
      expectSums(row, expected);
      const query = { tenantId: 'acme', from: new Date(from), to: new Date(to), groupBy: 'vehicle' as const, stepLimits: STEP_LIMITS };
      const raw = (await repo.reportFromRaw(query)).find((g) => g.key === 'R-1')!;
      const rolled = (await repo.report(query)).find((g) => g.key === 'R-1')!;
      for (const c of ENERGY_COLUMNS) {
        expect(rolled[c], `${from} ${c}`).toBeCloseTo(raw[c], 9);
        expect(raw[c], `${from} ${c}`).toBeCloseTo(expected[c]!, 9);
      }
    }
  });

  it('equals the computation over raw rows across whole days, partial days and partial hours, for every grouping', async () => {
    // Two vehicles with 3½ days of history every 13 minutes (a reset, a glitch, missing counters, an offline night
    // across midnight, a sample exactly at midnight); energy_hourly holds what ingestion makes of them (a row for
    // every hour with samples), and energy_daily follows it through its triggers.
    await seedVehicle(h.database, { id: 'M-1', type: 'road_sweeper', bodyType: 'sweeper', powertrain: 'bev' });
    await seedVehicle(h.database, { id: 'M-2', type: 'garbage_compactor', bodyType: 'compactor', powertrain: 'ice' });
    const start = Date.parse('2026-11-23T05:07:00Z');
    const rows: NewTelemetryRow[] = [];
    const hourly: NewEnergyHourlyRow[] = [];
    for (const [v, id] of ['M-1', 'M-2'].entries()) {
      const samples: CounterSample[] = [];
      let odo = 1000 * (v + 1);
      let kwh = 500;
      let fuel = 80;
      for (let i = 0; i < 380; i++) {
        const tsMs = v === 1 && i === 200 ? Date.parse('2026-11-25T00:00:00Z') : start + i * 13 * 60_000 + v * 17_000;
        if (v === 0 && tsMs > Date.parse('2026-11-24T21:00:00Z') && tsMs < Date.parse('2026-11-25T03:30:00Z')) continue; // offline
        odo += 1.7;
        kwh += i === 150 ? -480 : 2.2; // reset
        fuel += i === 90 ? 9000 : 0.3; // glitch, and back
        if (i === 91) fuel -= 9000;
        const counters = { distance_km: i % 11 === 5 ? undefined : odo, traction_kwh: kwh, fuel_l: v === 1 ? fuel : undefined };
        samples.push({ tsMs, seq: i, counters });
        rows.push({ vehicle_id: id, ts: new Date(tsMs), seq: i, odometer_km: counters.distance_km ?? null, traction_kwh: kwh, fuel_used_l: counters.fuel_l ?? null });
      }
      const increases = hourlyIncreases(samples);
      const perHour = new Map<number, number>();
      for (const s of samples) perHour.set(Math.floor(s.tsMs / 3_600_000) * 3_600_000, (perHour.get(Math.floor(s.tsMs / 3_600_000) * 3_600_000) ?? 0) + 1);
      for (const [hour, n] of perHour) hourly.push({ vehicle_id: id, hour: new Date(hour), samples: n, ...(increases.get(hour) ?? {}) });
    }
    await seedTelemetry(h.database, rows);
    await h.database.db.insertInto('energy_hourly').values(hourly).execute();
    await h.database.db.insertInto('energy_10min').values(referenceBuckets(rows)).execute();

    const repo = new EnergyReportRepository(h.database.db);
    for (const [from, to] of [
      ['2026-11-23T07:41:13Z', '2026-11-26T09:12:00Z'], // partial hours, partial days, two whole days
      ['2026-11-23T00:00:00Z', '2026-11-27T00:00:00Z'], // whole days only
      ['2026-11-23T22:30:00Z', '2026-11-25T00:00:00Z'], // a partial hour, an hour of a partial day, one whole day
      ['2026-11-24T23:59:59Z', '2026-11-26T00:00:01Z'], // partial hours right at midnight
    ] as const) {
      for (const groupBy of ['vehicle', 'type', 'body_type', 'powertrain', 'day'] as const) {
        const query = { tenantId: 'acme', from: new Date(from), to: new Date(to), groupBy, stepLimits: STEP_LIMITS };
        const raw = await repo.reportFromRaw(query);
        const rolled = await repo.report(query);
        expect(rolled.map((g) => [g.key, g.vehicles]), `${from} ${groupBy}`).toEqual(raw.map((g) => [g.key, g.vehicles]));
        rolled.forEach((g, i) => {
          for (const c of ENERGY_COLUMNS) expect(g[c], `${from} ${groupBy} ${g.key} ${c}`).toBeCloseTo(raw[i]![c], 9);
        });
        if (groupBy === 'day') expect(raw.length, `${from}: days with figures`).toBeGreaterThan(0);
      }
    }
  });

  it('answers 400 with a code for bad parameters', async () => {
    const bad = async (qs: string) => (await h.request('GET', `/api/v1/energy?${qs}`, h.keys.acme.operator)).body.error?.code;
    expect(await bad('from=yesterday&to=2026-11-20T00:00:00Z')).toBe('invalid_time');
    expect(await bad('from=2026-11-20T10:00:00&to=2026-11-20T11:00:00Z')).toBe('invalid_time'); // no zone
    expect(await bad('from=2026-11-20T12:00:00Z&to=2026-11-20T11:00:00Z')).toBe('invalid_range');
    expect(await bad('from=2026-11-20T11:00:00Z&to=2026-11-20T11:00:00Z')).toBe('invalid_range');
    expect(await bad('from=2020-01-01T00:00:00Z&to=2026-11-20T11:00:00Z')).toBe('range_too_long');
    expect(await bad('from=2026-11-20&to=2026-11-21&group_by=color')).toBe('invalid_group_by');
    expect(await bad('from=2026-11-20&to=2026-11-21&tenant=other')).toBe('invalid_parameter');
    // Older than raw retention (400 days by default) energy is exact to the hour only: an end off the hour there is
    // refused, not answered from raw rows retention dropped; ends on the hour are fine at any age.
    expect(await bad('from=2025-06-01T10:30:00Z&to=2025-06-02T00:00:00Z')).toBe('range_before_retention');
    expect(await bad('from=2025-06-01T10:00:00Z&to=2025-06-01T12:15:00Z')).toBe('range_before_retention');
    expect(await bad('from=2025-06-01T10:00:00Z&to=2025-06-02T00:00:00Z')).toBeUndefined();
  });
});
