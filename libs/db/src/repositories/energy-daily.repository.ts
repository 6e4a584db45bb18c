// The energy_daily rollup's moving part (migration 2026_11_27_140000_energy_daily_watermark): energy_daily holds the
// energy_hourly rows before the watermark; this adds the hours that closed since and moves the watermark, in one
// transaction, under a SHARE ROW EXCLUSIVE lock on energy_hourly (it waits for the ingestion transactions in flight
// and holds new ones off meanwhile, so no write falls between the rows added and the watermark the triggers compare
// with). Two rollups at once queue on the same lock; the second finds nothing left to add.
import { Inject, Injectable } from '@nestjs/common';
import { CompiledQuery, type Kysely, sql } from 'kysely';
import { DATABASE, type DB } from '../database.js';
import { ENERGY_HOURLY_COUNTERS } from './energy-hourly.repository.js';

/** What a day sums from its hours: every increase column of energy_hourly and the samples behind them. */
const SUMS = [...ENERGY_HOURLY_COUNTERS.map(([column]) => column), 'samples'];

export interface WatermarkAdvance {
  /** The watermark before and after (equal when there was nothing to add). */
  from: Date;
  to: Date;
  /** energy_daily rows inserted or updated. */
  days: number;
}

const ROLL_UP = `
  INSERT INTO energy_daily AS d (vehicle_id, day, hours, ${SUMS.join(', ')})
  SELECT vehicle_id, date_trunc('day', hour, 'UTC'), count(*), ${SUMS.map((c) => `sum(${c})`).join(', ')}
  FROM energy_hourly
  WHERE hour >= $1::timestamptz AND hour < $2::timestamptz
  GROUP BY 1, 2
  ORDER BY 1, 2
  ON CONFLICT (vehicle_id, day) DO UPDATE SET
    hours = d.hours + excluded.hours,
    ${SUMS.map((c) => `${c} = d.${c} + excluded.${c}`).join(',\n    ')}`;

@Injectable()
export class EnergyDailyRepository {
  constructor(@Inject(DATABASE) private readonly db: Kysely<DB>) {}

  /** The current watermark: energy_daily holds exactly the energy_hourly rows with hour before it. */
  async watermark(): Promise<Date> {
    const row = await this.db.selectFrom('energy_daily_watermark').select('hour').executeTakeFirstOrThrow();
    return row.hour;
  }

  /**
   * Moves the watermark forward to `to` (the start of a UTC hour; never backward), adding the energy_hourly rows of
   * [watermark, to) to their days first. Gives up with an error if the lock is not granted within `lockTimeoutMs`
   * (a long transaction on energy_hourly): the next run tries again, and readers stay exact meanwhile. Ingestion
   * batches wait while it runs: about one batch's commit time plus the rollup of one hour of the fleet's rows.
   */
  async advanceWatermark(to: Date, lockTimeoutMs = 1_000): Promise<WatermarkAdvance> {
    if (to.getTime() % 3_600_000 !== 0) throw new RangeError(`advanceWatermark: ${to.toISOString()} is not the start of an hour`);
    // Nothing to add (most runs: the target moves once an hour): no lock. While the lock request waits, ingestion's
    // batches queue behind it, so it is only asked for when needed, and given up after lockTimeoutMs.
    const current = await this.watermark();
    if (to <= current) return { from: current, to: current, days: 0 };
    return this.db.transaction().execute(async (trx) => {
      await sql`SELECT set_config('lock_timeout', ${`${Math.max(1, Math.round(lockTimeoutMs))}ms`}, true)`.execute(trx);
      await sql`LOCK TABLE energy_hourly IN SHARE ROW EXCLUSIVE MODE`.execute(trx);
      const from = (await trx.selectFrom('energy_daily_watermark').select('hour').forUpdate().executeTakeFirstOrThrow()).hour;
      if (to <= from) return { from, to: from, days: 0 };
      const added = await trx.executeQuery(CompiledQuery.raw(ROLL_UP, [from.toISOString(), to.toISOString()]));
      await trx.updateTable('energy_daily_watermark').set({ hour: to }).execute();
      return { from, to, days: Number(added.numAffectedRows ?? 0n) };
    });
  }
}
