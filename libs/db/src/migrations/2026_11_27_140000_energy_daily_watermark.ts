// energy_daily leaves the ingestion hot path: it now holds the hours BEFORE a watermark (energy_daily_watermark.hour),
// and a rollup job (EnergyDailyRepository.advanceWatermark, run by ingestion every few minutes) adds the hours that
// closed since, then moves the watermark, in one transaction.
//
// Why: with the triggers of 2026_11_27_100000 every ingestion batch upserted one energy_daily row per vehicle next to
// its energy_hourly row: measured on 450-vehicle batches, the energy step took 8.0–8.7 ms with the triggers and
// 5.0–5.4 ms without (min of 60, same run). Almost all of those writes go to the current hour, which the energy report
// reads from energy_hourly anyway (the range ends in it, or it is a partial day). Now the triggers move a day only for
// writes to hours before the watermark (late or backfilled samples, recomputations, an operator's correction), so the
// rollup stays exact:
//   energy_daily(day) = Σ energy_hourly rows of the day with hour < watermark
// and a reader takes, for the whole days of a range, energy_daily plus the energy_hourly rows at or after the
// watermark (one statement, so both come from one snapshot).
//
// The rollup and the watermark move together under a SHARE ROW EXCLUSIVE lock on energy_hourly: it waits for the
// writers in flight and holds new ones off for as long as it takes to add the closed hours (one hour of the fleet's
// rows), so no write can fall between the rows it adds and the watermark the triggers compare with.
//
// Frozen in time: imports nothing from the app, takes Kysely<any>, raw SQL only.
import { type Kysely, sql } from 'kysely';

const COLUMNS = ['distance_km', 'traction_kwh', 'body_kwh', 'regen_kwh', 'charged_kwh', 'h2_kg', 'fuel_l', 'engine_hours', 'body_hours', 'samples'];

/** As in 2026_11_27_100000, restricted to the hours before the watermark (`wm`, a PL/pgSQL variable). */
function applyDelta(plus: string | null, minus: string | null, below: string | null): string {
  const branch = (table: string, sign: '' | '-'): string =>
    `SELECT vehicle_id, date_trunc('day', hour, 'UTC') AS day, ${sign}1 AS hours, ${COLUMNS.map((c) => `${sign}${c} AS ${c}`).join(', ')} FROM ${table}` +
    (below ? ` WHERE hour < ${below}` : '');
  const branches = [plus && branch(plus, ''), minus && branch(minus, '-')].filter((b): b is string => b !== null);
  return `
    INSERT INTO energy_daily AS d (vehicle_id, day, hours, ${COLUMNS.join(', ')})
    SELECT vehicle_id, day, sum(hours), ${COLUMNS.map((c) => `sum(${c})`).join(', ')}
    FROM (${branches.join(' UNION ALL ')}) delta
    GROUP BY vehicle_id, day
    ORDER BY vehicle_id, day
    ON CONFLICT (vehicle_id, day) DO UPDATE SET
      hours = d.hours + excluded.hours,
      ${COLUMNS.map((c) => `${c} = d.${c} + excluded.${c}`).join(',\n      ')}`;
}

function followHourly(below: string | null): string {
  // `wm` is read once per statement; the EXISTS tests keep the common case (every row at or after it) to a scan of
  // the transition table.
  const any = (table: string): string => (below ? `EXISTS (SELECT 1 FROM ${table} WHERE hour < ${below})` : 'true');
  return `
    CREATE OR REPLACE FUNCTION energy_daily_follow_hourly() RETURNS trigger LANGUAGE plpgsql AS $fn$
    DECLARE
      wm timestamptz;
    BEGIN
      ${below ? `SELECT COALESCE(max(hour), '-infinity') INTO wm FROM energy_daily_watermark;` : ''}
      IF TG_OP = 'INSERT' THEN
        IF ${any('new_hours')} THEN
          ${applyDelta('new_hours', null, below)};
        END IF;
      ELSIF TG_OP = 'UPDATE' THEN
        IF ${any('new_hours')} OR ${any('old_hours')} THEN
          ${applyDelta('new_hours', 'old_hours', below)};
        END IF;
      ELSIF TG_OP = 'DELETE' THEN
        IF ${any('old_hours')} THEN
          ${applyDelta(null, 'old_hours', below)};
          DELETE FROM energy_daily d USING (SELECT DISTINCT vehicle_id, date_trunc('day', hour, 'UTC') AS day FROM old_hours) o
          WHERE d.vehicle_id = o.vehicle_id AND d.day = o.day AND d.hours <= 0;
        END IF;
      ELSE
        TRUNCATE energy_daily;
      END IF;
      RETURN NULL;
    END
    $fn$`;
}

const REBUILD = (below: string | null): string => `
    TRUNCATE energy_daily;
    INSERT INTO energy_daily (vehicle_id, day, hours, ${COLUMNS.join(', ')})
    SELECT vehicle_id, date_trunc('day', hour, 'UTC'), count(*), ${COLUMNS.map((c) => `sum(${c})`).join(', ')}
    FROM energy_hourly ${below ? `WHERE hour < ${below}` : ''}
    GROUP BY 1, 2`;

export async function up(db: Kysely<any>): Promise<void> {
  // Writers held off until the migration's transaction commits (as in 2026_11_27_100000).
  await sql`LOCK TABLE energy_hourly IN SHARE MODE`.execute(db);
  // One row; the hours before it are in energy_daily. It starts an hour before the current one: the first rollup
  // adds the hours since.
  await sql`
    CREATE TABLE energy_daily_watermark (
      only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
      hour     timestamptz NOT NULL
    );
    INSERT INTO energy_daily_watermark (hour) VALUES (date_trunc('hour', now(), 'UTC') - interval '1 hour');
  `.execute(db);
  await sql.raw(followHourly('wm')).execute(db);
  // A day's row is now written by the rollup and by late writes, no longer by every batch: no room needed for HOT
  // updates, and the report reads half the pages. The rebuild below writes every row anew at the new fillfactor.
  await sql`ALTER TABLE energy_daily SET (fillfactor = 100)`.execute(db);
  await sql.raw(REBUILD('(SELECT hour FROM energy_daily_watermark)')).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`LOCK TABLE energy_hourly IN SHARE MODE`.execute(db);
  await sql.raw(followHourly(null)).execute(db);
  await sql`ALTER TABLE energy_daily SET (fillfactor = 50)`.execute(db);
  await sql.raw(REBUILD(null)).execute(db);
  await sql`DROP TABLE IF EXISTS energy_daily_watermark`.execute(db);
}
