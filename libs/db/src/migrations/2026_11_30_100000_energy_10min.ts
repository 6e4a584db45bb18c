// energy_10min: per vehicle and UTC 10-minute bucket, the increase of every cumulative counter (the rule of
// energy_hourly, attributed to the bucket of the later sample of each pair). Written by ingestion beside
// energy_hourly, in the same transaction, from the same increments (an hour row is the sum of its six bucket rows).
//
// Why: GET /api/v1/energy is exact for any range, so a range starting at minute :30 of an hour read the raw samples
// of that half hour. At one sample every 5 min that was ~7,000 rows for 1,000 vehicles, the largest part of the report
// (~30 ms of ~60, this 2-core machine); at one sample a second it was 1.8 M rows, 10–16 s, past the API's statement
// timeout. With bucket rows the raw part of each end is at most 5 minutes (the bucket boundary nearest to it).
//
// The buckets are complete only for the time after this migration: a deployment that already has telemetry gets
// no backfill (recomputing every bucket of a large history from raw rows would hold the migration for hours).
// specfleet_meta.energy_10min_since records from when bucket rows may be read: the start of the hour two hours
// after the migration (ingestion running the previous version until then writes no bucket rows; samples may be
// stamped a few minutes ahead of the clock), or -infinity on a database without telemetry (a new deployment).
// Readers use no bucket rows before it.
//
// Frozen in time: imports nothing from the app, takes Kysely<any>, raw SQL only.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // fillfactor 50 as energy_hourly: a bucket row is updated by each batch during its 10 minutes, then never again.
  await sql`
    CREATE TABLE energy_10min (
      vehicle_id   text        NOT NULL,
      bucket       timestamptz NOT NULL, -- start of the UTC 10-minute bucket
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
      updated_at   timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT energy_10min_pkey PRIMARY KEY (vehicle_id, bucket),
      CONSTRAINT energy_10min_bucket_aligned CHECK (date_bin('10 minutes', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00') = bucket)
    ) WITH (fillfactor = 50);
    CREATE INDEX energy_10min_bucket_idx ON energy_10min (bucket);
    INSERT INTO specfleet_meta (key, value)
    SELECT 'energy_10min_since',
      CASE WHEN EXISTS (SELECT 1 FROM telemetry) THEN to_char((date_trunc('hour', now()) + interval '2 hours') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
           ELSE '-infinity' END
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DELETE FROM specfleet_meta WHERE key = 'energy_10min_since';
    DROP TABLE energy_10min
  `.execute(db);
}
