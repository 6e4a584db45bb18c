// energy_daily: energy_hourly summed per vehicle and UTC day, so a 30-day energy report reads 30 rows per vehicle
// instead of 720 (GET /api/v1/energy; measured on 1,000 vehicles × 30 days: see energy-report.repository.ts).
//
// Kept equal to energy_hourly by statement-level triggers on energy_hourly rather than by each writer: every write
// (ingestion's increments and recomputations, a test seeding hours, an operator's correction in psql) moves the day
// by exactly new − old of the hours it touched, in the same statement, so the two tables cannot drift apart. The
// triggers are set-based (transition tables): one extra INSERT … ON CONFLICT per statement on energy_hourly, executed
// in the server, no extra round trip. `hours` counts the day's energy_hourly rows: a day is in the report exactly when
// it has hourly rows, as before. A DELETE removes days left without hours; an UPDATE that moves an hour to another
// day (ingestion never does) leaves an empty row with hours = 0 behind, which readers skip — deleting there would
// cost every ingestion UPDATE a second statement.
//
// Frozen in time: imports nothing from the app, takes Kysely<any>, raw SQL only.
import { type Kysely, sql } from 'kysely';

const COLUMNS = ['distance_km', 'traction_kwh', 'body_kwh', 'regen_kwh', 'charged_kwh', 'h2_kg', 'fuel_l', 'engine_hours', 'body_hours', 'samples'];

/**
 * Adds the rows of `plus` and subtracts those of `minus` (transition tables) to their days. Sorted, so concurrent
 * statements lock energy_daily rows in the same order (ingestion's are already serialised per vehicle).
 */
function applyDelta(plus: string | null, minus: string | null): string {
  const branch = (table: string, sign: '' | '-'): string =>
    `SELECT vehicle_id, date_trunc('day', hour, 'UTC') AS day, ${sign}1 AS hours, ${COLUMNS.map((c) => `${sign}${c} AS ${c}`).join(', ')} FROM ${table}`;
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

export async function up(db: Kysely<any>): Promise<void> {
  // Writers held off (SHARE blocks INSERT/UPDATE/DELETE, not reads) until the migration's transaction commits, so no
  // write lands between the backfill's snapshot and the triggers taking over.
  await sql`LOCK TABLE energy_hourly IN SHARE MODE`.execute(db);
  await sql`
    CREATE TABLE energy_daily (
      vehicle_id   text        NOT NULL,
      day          timestamptz NOT NULL, -- start of the UTC day
      distance_km  double precision NOT NULL DEFAULT 0,
      traction_kwh double precision NOT NULL DEFAULT 0,
      body_kwh     double precision NOT NULL DEFAULT 0,
      regen_kwh    double precision NOT NULL DEFAULT 0,
      charged_kwh  double precision NOT NULL DEFAULT 0,
      h2_kg        double precision NOT NULL DEFAULT 0,
      fuel_l       double precision NOT NULL DEFAULT 0,
      engine_hours double precision NOT NULL DEFAULT 0,
      body_hours   double precision NOT NULL DEFAULT 0,
      samples      integer     NOT NULL DEFAULT 0,
      hours        integer     NOT NULL DEFAULT 0, -- energy_hourly rows of the day
      CONSTRAINT energy_daily_pkey PRIMARY KEY (vehicle_id, day)
    ) WITH (fillfactor = 50); -- today's row is updated with every batch of the vehicle: room for HOT updates
    CREATE INDEX energy_daily_day_idx ON energy_daily (day);
  `.execute(db);

  await sql
    .raw(
      `
    CREATE FUNCTION energy_daily_follow_hourly() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        ${applyDelta('new_hours', null)};
      ELSIF TG_OP = 'UPDATE' THEN
        ${applyDelta('new_hours', 'old_hours')};
      ELSIF TG_OP = 'DELETE' THEN
        ${applyDelta(null, 'old_hours')};
        DELETE FROM energy_daily d USING (SELECT DISTINCT vehicle_id, date_trunc('day', hour, 'UTC') AS day FROM old_hours) o
        WHERE d.vehicle_id = o.vehicle_id AND d.day = o.day AND d.hours <= 0;
      ELSE
        TRUNCATE energy_daily;
      END IF;
      RETURN NULL;
    END
    $fn$;
    -- Transition tables allow one event per trigger.
    CREATE TRIGGER energy_daily_on_insert AFTER INSERT ON energy_hourly
      REFERENCING NEW TABLE AS new_hours FOR EACH STATEMENT EXECUTE FUNCTION energy_daily_follow_hourly();
    CREATE TRIGGER energy_daily_on_update AFTER UPDATE ON energy_hourly
      REFERENCING OLD TABLE AS old_hours NEW TABLE AS new_hours FOR EACH STATEMENT EXECUTE FUNCTION energy_daily_follow_hourly();
    CREATE TRIGGER energy_daily_on_delete AFTER DELETE ON energy_hourly
      REFERENCING OLD TABLE AS old_hours FOR EACH STATEMENT EXECUTE FUNCTION energy_daily_follow_hourly();
    CREATE TRIGGER energy_daily_on_truncate AFTER TRUNCATE ON energy_hourly
      FOR EACH STATEMENT EXECUTE FUNCTION energy_daily_follow_hourly();
  `,
    )
    .execute(db);

  // The backfill, under the lock taken above: whatever energy_hourly holds now, the triggers carry on from.
  await sql
    .raw(
      `
    INSERT INTO energy_daily (vehicle_id, day, hours, ${COLUMNS.join(', ')})
    SELECT vehicle_id, date_trunc('day', hour, 'UTC'), count(*), ${COLUMNS.map((c) => `sum(${c})`).join(', ')}
    FROM energy_hourly
    GROUP BY 1, 2`,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TRIGGER IF EXISTS energy_daily_on_insert ON energy_hourly;
    DROP TRIGGER IF EXISTS energy_daily_on_update ON energy_hourly;
    DROP TRIGGER IF EXISTS energy_daily_on_delete ON energy_hourly;
    DROP TRIGGER IF EXISTS energy_daily_on_truncate ON energy_hourly;
    DROP FUNCTION IF EXISTS energy_daily_follow_hourly();
    DROP TABLE IF EXISTS energy_daily;
  `.execute(db);
}
