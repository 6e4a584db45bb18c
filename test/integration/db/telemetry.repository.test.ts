// Telemetry bulk inserts: both paths are idempotent on (vehicle_id, ts, seq) and round-trip every column type.
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { type NewTelemetryRow, TELEMETRY_COLUMNS, TelemetryRepository } from '../../../libs/db/src/index.js';
import { createTestDatabase, describeEachBackend, type TestDatabase } from '../../setup/database.js';
import { T0, telemetryRow } from './helpers.js';

describeEachBackend('TelemetryRepository', (backend) => {
  let database: TestDatabase;
  let repo: TelemetryRepository;
  const count = async (): Promise<number> => {
    const { rows } = await sql<{ n: number }>`SELECT count(*) AS n FROM telemetry`.execute(database.db);
    return rows[0]?.n ?? -1;
  };

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    repo = new TelemetryRepository(database.db);
  });
  afterAll(async () => {
    await database?.drop();
  });
  beforeEach(async () => {
    await sql`DELETE FROM telemetry`.execute(database.db);
  });

  for (const method of ['insertBatch', 'copyBatch'] as const) {
    it(`${method}: the same sample twice leaves one row and reports one duplicate`, async () => {
      const sample = telemetryRow('SZ-SAN-0001', 1042);
      expect(await repo[method]([sample])).toEqual({ inserted: 1, duplicates: 0 });
      expect(await repo[method]([sample])).toEqual({ inserted: 0, duplicates: 1 });
      expect(await count()).toBe(1);
    });

    it(`${method}: a batch with an internal duplicate stores it once`, async () => {
      const batch = [telemetryRow('SZ-SAN-0001', 1), telemetryRow('SZ-SAN-0001', 2), telemetryRow('SZ-SAN-0001', 1)];
      expect(await repo[method](batch)).toEqual({ inserted: 2, duplicates: 1 });
      expect(await count()).toBe(2);
    });

    it(`${method}: same seq at another ts, or another vehicle, is not a duplicate`, async () => {
      const a = telemetryRow('SZ-SAN-0001', 7);
      const b = { ...a, ts: new Date(T0 + 999) };
      const c = { ...a, vehicle_id: 'SZ-SAN-0002' };
      expect(await repo[method]([a, b, c])).toEqual({ inserted: 3, duplicates: 0 });
    });

    it(`${method}: round-trips every column type`, async () => {
      const full: NewTelemetryRow = {
        vehicle_id: 'VIN.LFV2A21K_7-X',
        ts: '2026-11-26T08:00:00.123Z',
        seq: 4_294_967_295, // uint32 max: needs bigint
        received_at: new Date('2026-11-26T08:00:05.000Z'),
        lat: 31.690212345678,
        lon: 113.382498765432,
        alt_m: 96.5,
        heading_deg: 270,
        speed_kmh: 32.5,
        odometer_km: 15234.2,
        state: 'working',
        soc_pct: 78.5,
        battery_voltage_v: 614.2,
        battery_current_a: -32.1,
        battery_temp_max_c: 31,
        battery_temp_min_c: 24.5,
        cell_v_max: 3.412,
        cell_v_min: 3.398,
        soh_pct: 96,
        h2_mass_kg: 12.4,
        h2_pressure_mpa: 31.5,
        fc_power_kw: 42,
        fc_temp_c: 68,
        fuel_level_pct: 64,
        fuel_rate_lph: 18.2,
        engine_rpm: 1450,
        coolant_c: 88,
        traction_kwh: 18234.5,
        body_kwh: 4210.2,
        regen_kwh: 2100.3,
        charged_kwh: 24100,
        h2_used_kg: 1520.3,
        fuel_used_l: 0,
        engine_hours: 12345.678,
        body_type: 'sweeper',
        body_active: false,
        body_power_kw: 18.5,
        body_hours: 2210.4,
        body_signals: { brush_rpm: 120, note: 'tab\there "quoted" back\\slash\nnewline', nested: { list: [1, 'two', null] } },
        dtc: ['P0A80', 'SPN520-FMI3', 'OEM "Q" \\ , {x}'],
      };
      expect(await repo[method]([full])).toEqual({ inserted: 1, duplicates: 0 });
      const row = await database.db.selectFrom('telemetry').selectAll().executeTakeFirstOrThrow();
      expect(row).toEqual({
        ...full,
        ts: new Date('2026-11-26T08:00:00.123Z'),
        // real columns hold ~7 significant digits: values as a sensor reports them come back unchanged
      });
      expect(typeof row.seq).toBe('number');
      expect(row.ts).toBeInstanceOf(Date);
    });

    it(`${method}: round-trips the encoding edge cases (multi-byte UTF-8, empty array, pre-2000 and far timestamps, 2^53 − 1)`, async () => {
      const rows: NewTelemetryRow[] = [
        {
          vehicle_id: '鄂S·清扫-01',
          ts: new Date('1999-12-31T23:59:59.999Z'), // before PostgreSQL's epoch: a negative microsecond count
          seq: Number.MAX_SAFE_INTEGER,
          received_at: new Date('2026-11-26T08:00:05.001Z'),
          state: 'working',
          body_signals: { 备注: '随州 — ✓ 🚒', empty: {}, neg: -0.5 },
          dtc: [],
          battery_current_a: -1e-3,
          odometer_km: 0,
        },
        { vehicle_id: 'SZ-SAN-0004', ts: new Date('2199-01-01T00:00:00.000Z'), seq: 0, received_at: new Date(T0), body_active: true, dtc: ['Ü', ''] },
      ];
      expect(await repo[method](rows)).toEqual({ inserted: 2, duplicates: 0 });
      const stored = await database.db.selectFrom('telemetry').selectAll().orderBy('ts').execute();
      expect(stored.map((r) => [r.vehicle_id, r.ts.toISOString(), r.seq, r.received_at.toISOString(), r.body_signals, r.dtc, r.body_active])).toEqual([
        ['鄂S·清扫-01', '1999-12-31T23:59:59.999Z', Number.MAX_SAFE_INTEGER, '2026-11-26T08:00:05.001Z', { 备注: '随州 — ✓ 🚒', empty: {}, neg: -0.5 }, [], null],
        ['SZ-SAN-0004', '2199-01-01T00:00:00.000Z', 0, new Date(T0).toISOString(), null, ['Ü', ''], true],
      ]);
      expect(stored[0]!.battery_current_a).toBeCloseTo(-1e-3, 9);
      expect(stored[0]!.odometer_km).toBe(0);
    });

    it(`${method}: optional columns may be absent, received_at defaults to now()`, async () => {
      const minimal: NewTelemetryRow = { vehicle_id: 'SZ-SAN-0003', ts: new Date(T0), seq: 0 };
      expect(await repo[method]([minimal])).toEqual({ inserted: 1, duplicates: 0 });
      const row = await database.db.selectFrom('telemetry').selectAll().executeTakeFirstOrThrow();
      expect(row.received_at.getTime()).toBeGreaterThan(Date.now() - 60_000);
      expect(row.dtc).toBeNull();
      expect(row.body_signals).toBeNull();
      expect(row.lat).toBeNull();
    });
  }

  it('insertBatch and copyBatch see each other’s rows as duplicates', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => telemetryRow(`SZ-SAN-${i % 5}`, i));
    expect(await repo.insertBatch(rows.slice(0, 30))).toEqual({ inserted: 30, duplicates: 0 });
    expect(await repo.copyBatch(rows)).toEqual({ inserted: 20, duplicates: 30 });
    expect(await repo.insertBatch(rows)).toEqual({ inserted: 0, duplicates: 50 });
    expect(await count()).toBe(50);
  });

  it('copyBatch leaves the connection usable after a failed batch', async () => {
    const bad = { ...telemetryRow('SZ-SAN-0009', 1), vehicle_id: null as unknown as string }; // NOT NULL violation
    await expect(repo.copyBatch([bad])).rejects.toThrow(/null value/);
    expect(await repo.copyBatch([telemetryRow('SZ-SAN-0009', 1)])).toEqual({ inserted: 1, duplicates: 0 });
  });

  it('empty batches do nothing', async () => {
    expect(await repo.insertBatch([])).toEqual({ inserted: 0, duplicates: 0 });
    expect(await repo.copyBatch([])).toEqual({ inserted: 0, duplicates: 0 });
  });

  it('lists every table column in TELEMETRY_COLUMNS, in table order', async () => {
    const { rows } = await sql<{ column_name: string }>`
      SELECT column_name FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name = 'telemetry' ORDER BY ordinal_position`.execute(database.db);
    expect(rows.map((r) => r.column_name)).toEqual(TELEMETRY_COLUMNS.map((c) => c.name));
  });
});
