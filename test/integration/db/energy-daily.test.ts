// energy_daily follows energy_hourly whatever writes it: inserts, ingestion's upserts (increments and recomputations),
// plain updates (a key moved to another day included), deletes and TRUNCATE leave every day equal to the sum of its
// hourly rows before the watermark, with a row (hours > 0) exactly for the days that have such rows; the rollup
// (advanceWatermark) adds the hours it closes, also while ingestion writes. energy_monthly follows energy_daily the
// same way, through all of it: every comparison checks both.
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EnergyDailyRepository, EnergyHourlyRepository, type EnergyIncrement, IngestTransactionRepository } from '../../../libs/db/src/index.js';
import { createTestDatabase, describeEachBackend, type TestDatabase } from '../../setup/database.js';

const H = (iso: string) => new Date(`2026-11-${iso}:00:00Z`);
const SUMS = ['distance_km', 'traction_kwh', 'body_kwh', 'regen_kwh', 'charged_kwh', 'h2_kg', 'fuel_l', 'engine_hours', 'body_hours', 'samples'] as const;

function increment(vehicleId: string, hour: Date, n: number): EnergyIncrement {
  return { vehicleId, bucket: hour, samples: n, distance_km: n * 1.5, traction_kwh: n * 2.25, body_kwh: n, regen_kwh: 0.1 * n, charged_kwh: 0, h2_kg: 0, fuel_l: n / 3, engine_hours: 0.01 * n, body_hours: 0.02 * n };
}

describeEachBackend('energy_daily', (backend) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(backend);
  });
  afterAll(async () => {
    await database?.drop();
  });

  /** Increments as ingestion writes them: staged by COPY in an ingestion transaction, each list its own statement. */
  async function addIncrements(...lists: EnergyIncrement[][]): Promise<void> {
    await new IngestTransactionRepository(database.db).run([], async (tx) => {
      for (const rows of lists) new EnergyHourlyRepository(tx.db).addIncrements(rows, tx.queue);
    });
  }

  /** energy_daily next to the same sums computed from energy_hourly now (the rows before the watermark). */
  async function compare(): Promise<void> {
    const below = await new EnergyDailyRepository(database.db).watermark();
    const cols = SUMS.map((c) => `${c}::float8 AS ${c}`).join(', ');
    const { rows: daily } = await sql<Record<string, unknown>>`
      SELECT vehicle_id, day, hours, ${sql.raw(cols)} FROM energy_daily WHERE hours > 0 ORDER BY 1, 2`.execute(database.db);
    const { rows: expected } = await sql<Record<string, unknown>>`
      SELECT vehicle_id, date_trunc('day', hour, 'UTC') AS day, count(*)::int AS hours, ${sql.raw(SUMS.map((c) => `sum(${c})::float8 AS ${c}`).join(', '))}
      FROM energy_hourly WHERE hour < ${below} GROUP BY 1, 2 ORDER BY 1, 2`.execute(database.db);
    expect(daily.map((d) => [d.vehicle_id, (d.day as Date).toISOString(), d.hours])).toEqual(
      expected.map((d) => [d.vehicle_id, (d.day as Date).toISOString(), d.hours]),
    );
    daily.forEach((d, i) => {
      for (const c of SUMS) expect(d[c], `${d.vehicle_id} ${(d.day as Date).toISOString()} ${c}`).toBeCloseTo(expected[i]![c] as number, 9);
    });
    // energy_monthly follows energy_daily (migration 2026_11_29_100000): a row (hours > 0) exactly for the months
    // with hours, each the sum of its days.
    const { rows: monthly } = await sql<Record<string, unknown>>`
      SELECT vehicle_id, month, hours, ${sql.raw(cols)} FROM energy_monthly WHERE hours > 0 ORDER BY 1, 2`.execute(database.db);
    const { rows: months } = await sql<Record<string, unknown>>`
      SELECT vehicle_id, date_trunc('month', day, 'UTC') AS month, sum(hours)::int AS hours, ${sql.raw(SUMS.map((c) => `sum(${c})::float8 AS ${c}`).join(', '))}
      FROM energy_daily GROUP BY 1, 2 HAVING sum(hours) > 0 ORDER BY 1, 2`.execute(database.db);
    expect(monthly.map((m) => [m.vehicle_id, (m.month as Date).toISOString(), m.hours])).toEqual(
      months.map((m) => [m.vehicle_id, (m.month as Date).toISOString(), m.hours]),
    );
    monthly.forEach((m, i) => {
      for (const c of SUMS) expect(m[c], `${m.vehicle_id} ${(m.month as Date).toISOString()} ${c}`).toBeCloseTo(months[i]![c] as number, 9);
    });
  }

  it('sums the hours of each UTC day through every kind of write', async () => {
    // Migrated an hour before the current one: every hour written here lies before the watermark.
    expect((await new EnergyDailyRepository(database.db).watermark()).getTime()).toBeGreaterThan(H('22T00').getTime());
    const repo = new EnergyHourlyRepository(database.db);
    // New hours on two days, then more increments to some of them (INSERT … ON CONFLICT DO UPDATE).
    await addIncrements([increment('D-1', H('20T22'), 3), increment('D-1', H('20T23'), 4), increment('D-1', H('21T00'), 5), increment('D-2', H('21T00'), 2)]);
    await compare();
    await addIncrements([increment('D-1', H('20T23'), 1), increment('D-1', H('21T01'), 6), increment('D-2', H('21T00'), 7)]);
    await compare();
    // A recomputation overwrites hours (new − old reaches the day): no telemetry, so the hours become empty rows.
    await repo.recomputeAround([{ vehicleId: 'D-1', ts: new Date('2026-11-20T23:10:00Z'), seq: 1 }], { maxPerHour: Array(9).fill(1e9), slack: Array(9).fill(0) });
    await compare();
    const [emptied] = (await database.db.selectFrom('energy_daily').selectAll().where('vehicle_id', '=', 'D-1').where('day', '=', H('20T00')).execute());
    expect(emptied).toMatchObject({ hours: 2, samples: 3 }); // 22:00 untouched, 23:00 recomputed to nothing
    // Plain UPDATE, one that moves an hour to another day, and DELETE.
    await sql`UPDATE energy_hourly SET traction_kwh = traction_kwh * 2 WHERE vehicle_id = 'D-1'`.execute(database.db);
    await compare();
    await sql`UPDATE energy_hourly SET hour = ${H('19T05')} WHERE vehicle_id = 'D-2'`.execute(database.db);
    await compare(); // the 21st keeps an empty row (hours = 0), which the report skips
    expect(await database.db.selectFrom('energy_daily').select(['day', 'hours', 'traction_kwh']).where('vehicle_id', '=', 'D-2').orderBy('day').execute()).toEqual([
      { day: H('19T00'), hours: 1, traction_kwh: 9 * 2.25 },
      { day: H('21T00'), hours: 0, traction_kwh: 0 },
    ]);
    // Across a month boundary: October's row gains the hour, November's loses it.
    await sql`UPDATE energy_hourly SET hour = ${new Date('2026-10-31T23:00:00Z')} WHERE vehicle_id = 'D-2'`.execute(database.db);
    await compare();
    expect(await database.db.selectFrom('energy_monthly').select(['month', 'hours']).where('vehicle_id', '=', 'D-2').orderBy('month').execute()).toEqual([
      { month: new Date('2026-10-01T00:00:00Z'), hours: 1 },
      { month: new Date('2026-11-01T00:00:00Z'), hours: 0 },
    ]);
    await sql`DELETE FROM energy_hourly WHERE vehicle_id = 'D-1' AND hour >= ${H('21T00')}`.execute(database.db);
    await compare(); // D-1's 21st has no hours left: no row
    expect(await database.db.selectFrom('energy_daily').select('day').where('vehicle_id', '=', 'D-1').execute()).toHaveLength(1);
    await sql`TRUNCATE energy_hourly`.execute(database.db);
    await compare();
  });

  it('leaves the hours from the watermark on to the rollup, which adds them and moves the watermark', async () => {
    const rollup = new EnergyDailyRepository(database.db);
    await sql`TRUNCATE energy_hourly`.execute(database.db);
    await sql`UPDATE energy_daily_watermark SET hour = ${H('20T00')}`.execute(database.db); // energy_daily is empty: consistent
    await addIncrements([increment('W-1', H('19T23'), 2), increment('W-1', H('20T00'), 3), increment('W-1', H('20T01'), 4), increment('W-2', H('21T05'), 5)]);
    await compare();
    expect(await database.db.selectFrom('energy_daily').select(['vehicle_id', 'day', 'hours']).execute()).toEqual([{ vehicle_id: 'W-1', day: H('19T00'), hours: 1 }]);

    expect(await rollup.advanceWatermark(H('20T01'))).toEqual({ from: H('20T00'), to: H('20T01'), days: 1 });
    await compare();
    expect(await database.db.selectFrom('energy_daily').select(['day', 'hours', 'samples']).orderBy('day').execute()).toEqual([
      { day: H('19T00'), hours: 1, samples: 2 },
      { day: H('20T00'), hours: 1, samples: 3 },
    ]);
    // A write to an hour before the watermark (a late sample) reaches energy_daily at once; one after it does not.
    await addIncrements([increment('W-1', H('20T00'), 10), increment('W-1', H('20T01'), 10)]);
    await compare();
    expect(await rollup.advanceWatermark(H('22T00'))).toEqual({ from: H('20T01'), to: H('22T00'), days: 2 });
    await compare();
    expect(await database.db.selectFrom('energy_daily').select(['vehicle_id', 'day', 'hours', 'samples']).orderBy('vehicle_id').orderBy('day').execute()).toEqual([
      { vehicle_id: 'W-1', day: H('19T00'), hours: 1, samples: 2 },
      { vehicle_id: 'W-1', day: H('20T00'), hours: 2, samples: 27 },
      { vehicle_id: 'W-2', day: H('21T00'), hours: 1, samples: 5 },
    ]);
    // Never backward; only hour boundaries.
    expect(await rollup.advanceWatermark(H('21T00'))).toEqual({ from: H('22T00'), to: H('22T00'), days: 0 });
    expect(await rollup.watermark()).toEqual(H('22T00'));
    await expect(rollup.advanceWatermark(new Date('2026-11-22T03:30:00Z'))).rejects.toThrow(RangeError);
  });

  it('loses nothing when the rollup moves the watermark while batches write the hours it closes', async () => {
    const rollup = new EnergyDailyRepository(database.db);
    await sql`TRUNCATE energy_hourly`.execute(database.db);
    await sql`UPDATE energy_daily_watermark SET hour = ${H('10T00')}`.execute(database.db);
    const hours = Array.from({ length: 24 }, (_, i) => new Date(H('10T00').getTime() + i * 3_600_000));
    // Writers: 8 concurrent streams of small transactions over all 24 hours (each a BEGIN … COMMIT with two upserts,
    // like an ingestion batch); meanwhile the rollup closes the hours one by one.
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let round = 0; round < 12; round++) {
        await addIncrements(
          hours.map((hour) => increment(`C-${w}`, hour, 1 + (round % 3))),
          [increment(`C-${w}`, hours[(round * 5 + w) % 24]!, 1)],
        );
      }
    });
    const closer = (async () => {
      for (const hour of hours.slice(1)) await rollup.advanceWatermark(hour);
    })();
    await Promise.all([...writers, closer]);
    expect(await rollup.watermark()).toEqual(hours[23]);
    await compare();
    await rollup.advanceWatermark(H('11T00'));
    await compare();
    const { rows } = await sql<{ n: number; samples: number }>`SELECT count(*)::int AS n, sum(samples)::int AS samples FROM energy_hourly`.execute(database.db);
    expect(rows[0]!.n).toBe(8 * 24);
    // Each writer: 12 rounds of 24 hours × (1 + round % 3) samples, plus 1; the second list staged in the same
    // transaction as the first adds only itself.
    expect(rows[0]!.samples).toBe(8 * (24 * 24 + 12));
  });
});
