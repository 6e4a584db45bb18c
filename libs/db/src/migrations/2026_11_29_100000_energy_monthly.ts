// energy_monthly: energy_daily summed per vehicle and UTC month, so a 30-day energy report reads about one month row
// and a few day rows per vehicle instead of 30 day rows (GET /api/v1/energy; see energy-report.repository.ts).
//
// Why: summing the 30,000 energy_daily rows of a 30-day report for 1,000 vehicles took 18–30 ms of the statement
// (EXPLAIN ANALYZE with TIMING OFF, the daily part alone, TimescaleDB, this 2-core machine), more than a third of it.
//
// Kept equal to energy_daily as energy_daily is kept equal to energy_hourly: by statement-level triggers with
// transition tables on energy_daily, whatever writes it (the rollup that moves the watermark, the energy_hourly
// triggers for late writes, an operator in psql). energy_daily holds the hours before the watermark, so
//   energy_monthly(month) = Σ energy_daily rows of the month = Σ energy_hourly rows of the month with hour < watermark
// and a reader takes, for the whole months of a range, energy_monthly plus the energy_hourly rows from the watermark
// on, in one statement. energy_daily changes only when the rollup runs (every few minutes) or a late sample lands
// before the watermark: the ingestion hot path does not reach this table. `hours` sums the days' hours: a month with
// none is no month of the report (rows with hours = 0 stay behind an UPDATE that empties them, as in energy_daily).
//
// The cost: the rollup's statement that adds a closed hour to energy_daily now also upserts the vehicles' month rows,
// inside the transaction that holds energy_hourly in SHARE ROW EXCLUSIVE mode (ingestion batches wait meanwhile).
// Measured for one hour of 1,000 vehicles (psql, rolled back, 12 runs): 11–20 ms without this trigger, 23–43 ms with
// it, once an hour. A fillfactor below 100 (room for HOT updates of the month rows) made no measurable difference.
//
// Frozen in time: imports nothing from the app, takes Kysely<any>, raw SQL only.
import { type Kysely, sql } from 'kysely';

const COLUMNS = ['distance_km', 'traction_kwh', 'body_kwh', 'regen_kwh', 'charged_kwh', 'h2_kg', 'fuel_l', 'engine_hours', 'body_hours', 'samples', 'hours'];

/** Adds the rows of `plus` and subtracts those of `minus` (transition tables of energy_daily) to their months. */
function applyDelta(plus: string | null, minus: string | null): string {
  const branch = (table: string, sign: '' | '-'): string =>
    `SELECT vehicle_id, date_trunc('month', day, 'UTC') AS month, ${COLUMNS.map((c) => `${sign}${c} AS ${c}`).join(', ')} FROM ${table}`;
  const branches = [plus && branch(plus, ''), minus && branch(minus, '-')].filter((b): b is string => b !== null);
  return `
    INSERT INTO energy_monthly AS m (vehicle_id, month, ${COLUMNS.join(', ')})
    SELECT vehicle_id, month, ${COLUMNS.map((c) => `sum(${c})`).join(', ')}
    FROM (${branches.join(' UNION ALL ')}) delta
    GROUP BY vehicle_id, month
    ORDER BY vehicle_id, month
    ON CONFLICT (vehicle_id, month) DO UPDATE SET
      ${COLUMNS.map((c) => `${c} = m.${c} + excluded.${c}`).join(',\n      ')}`;
}

export async function up(db: Kysely<any>): Promise<void> {
  // Every writer of energy_daily is held off until the migration commits: the energy_hourly triggers and the rollup
  // (which locks energy_hourly in SHARE ROW EXCLUSIVE mode) by the first lock, direct writes by the second.
  await sql`LOCK TABLE energy_hourly IN SHARE MODE`.execute(db);
  await sql`LOCK TABLE energy_daily IN SHARE MODE`.execute(db);
  await sql`
    CREATE TABLE energy_monthly (
      vehicle_id   text        NOT NULL,
      month        timestamptz NOT NULL, -- start of the UTC month
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
      hours        integer     NOT NULL DEFAULT 0, -- energy_hourly rows of the month (before the watermark)
      CONSTRAINT energy_monthly_pkey PRIMARY KEY (vehicle_id, month)
    );
    CREATE INDEX energy_monthly_month_idx ON energy_monthly (month);
  `.execute(db);

  await sql
    .raw(
      `
    CREATE FUNCTION energy_monthly_follow_daily() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        ${applyDelta('new_days', null)};
      ELSIF TG_OP = 'UPDATE' THEN
        ${applyDelta('new_days', 'old_days')};
      ELSIF TG_OP = 'DELETE' THEN
        ${applyDelta(null, 'old_days')};
        DELETE FROM energy_monthly m USING (SELECT DISTINCT vehicle_id, date_trunc('month', day, 'UTC') AS month FROM old_days) o
        WHERE m.vehicle_id = o.vehicle_id AND m.month = o.month AND m.hours <= 0;
      ELSE
        TRUNCATE energy_monthly;
      END IF;
      RETURN NULL;
    END
    $fn$;
    -- Transition tables allow one event per trigger.
    CREATE TRIGGER energy_monthly_on_insert AFTER INSERT ON energy_daily
      REFERENCING NEW TABLE AS new_days FOR EACH STATEMENT EXECUTE FUNCTION energy_monthly_follow_daily();
    CREATE TRIGGER energy_monthly_on_update AFTER UPDATE ON energy_daily
      REFERENCING OLD TABLE AS old_days NEW TABLE AS new_days FOR EACH STATEMENT EXECUTE FUNCTION energy_monthly_follow_daily();
    CREATE TRIGGER energy_monthly_on_delete AFTER DELETE ON energy_daily
      REFERENCING OLD TABLE AS old_days FOR EACH STATEMENT EXECUTE FUNCTION energy_monthly_follow_daily();
    CREATE TRIGGER energy_monthly_on_truncate AFTER TRUNCATE ON energy_daily
      FOR EACH STATEMENT EXECUTE FUNCTION energy_monthly_follow_daily();
  `,
    )
    .execute(db);

  // The backfill, under the locks taken above: whatever energy_daily holds now, the triggers carry on from. Days
  // emptied by an UPDATE (hours = 0) add nothing but their zeros.
  await sql
    .raw(
      `
    INSERT INTO energy_monthly (vehicle_id, month, ${COLUMNS.join(', ')})
    SELECT vehicle_id, date_trunc('month', day, 'UTC'), ${COLUMNS.map((c) => `sum(${c})`).join(', ')}
    FROM energy_daily
    GROUP BY 1, 2
    HAVING sum(hours) > 0`,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TRIGGER IF EXISTS energy_monthly_on_insert ON energy_daily;
    DROP TRIGGER IF EXISTS energy_monthly_on_update ON energy_daily;
    DROP TRIGGER IF EXISTS energy_monthly_on_delete ON energy_daily;
    DROP TRIGGER IF EXISTS energy_monthly_on_truncate ON energy_daily;
    DROP FUNCTION IF EXISTS energy_monthly_follow_daily();
    DROP TABLE IF EXISTS energy_monthly;
  `.execute(db);
}
