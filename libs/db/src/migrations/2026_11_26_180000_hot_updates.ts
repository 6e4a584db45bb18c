// Room on every page of vehicle_state and energy_hourly for in-place (HOT) updates.
//
// Ingestion rewrites each vehicle's vehicle_state row and its current energy_hourly row once per batch. With the
// default fillfactor (100) the pages are full of live rows, so every update put the new version on another page and
// added entries to every index: measured on 1,000 vehicles × 30 batches, 1 HOT update out of 31,000, vehicle_state
// at 10 MB for 1,000 rows, and the snapshot UPDATE at ~26 ms. With fillfactor 40 the new version goes on the same page,
// no index is touched (no indexed column changes), page pruning reclaims the old version: ~7 ms for the same UPDATE.
// energy_hourly rows (~150 bytes) are updated only during their hour and then never again; 50 leaves room for that
// at the price of a half-empty page per old hour — the table has one row per vehicle-hour, ~1/3600 of telemetry.
// Pages already written keep their fill; rows move to pages with room as they are next updated.
//
// Frozen in time: imports nothing from the app, takes Kysely<any>, raw SQL only.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE vehicle_state SET (fillfactor = 40);
    ALTER TABLE energy_hourly SET (fillfactor = 50)
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE vehicle_state RESET (fillfactor);
    ALTER TABLE energy_hourly RESET (fillfactor)
  `.execute(db);
}
