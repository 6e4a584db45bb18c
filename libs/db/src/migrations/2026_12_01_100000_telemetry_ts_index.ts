// An index on telemetry (ts) on TimescaleDB, whose chunks had only the primary key (vehicle_id, ts, seq)
// (create_default_indexes => false in the initial schema).
//
// Why: GET /api/v1/energy reads raw samples only for the few minutes at either end of a range that no 10-minute bucket
// row covers, across every vehicle of the tenant. Without an index on ts alone, the planner read that chunk whole: a
// sequential scan of up to 72,000 rows (a 6-hour chunk at 1,000 vehicles every 5 min) for ~130 rows, 5–8 ms of a
// ~30 ms statement (EXPLAIN ANALYZE, the benchmark's data). With it, a bitmap scan of the few pages that hold them.
// The cost is one more index entry per stored sample; ts grows with time, so live inserts go to the index's right
// edge (measured on ingestion: see bench/README.md, 27 Nov).
//
// Plain PostgreSQL keeps its BRIN index on ts (initial schema), which finds the pages of a time range in a table
// written in time order; no B-tree is added there.
//
// On an existing deployment this builds the index on every chunk, in the migration's transaction: on a large
// history that takes a while (1 min 19 s for 8.6 M rows on the development machine) and blocks ingestion's writes to
// telemetry meanwhile.
//
// Frozen in time: imports nothing from the app, takes Kysely<any>, raw SQL only.
import { type Kysely, sql } from 'kysely';

/** telemetry is a hypertable: the initial schema recorded the backend it chose. */
async function isTimescale(db: Kysely<any>): Promise<boolean> {
  const { rows } = await sql<{ value: string }>`SELECT value FROM specfleet_meta WHERE key = 'backend'`.execute(db);
  return rows[0]?.value === 'timescaledb';
}

export async function up(db: Kysely<any>): Promise<void> {
  if (!(await isTimescale(db))) return;
  await sql`CREATE INDEX telemetry_ts_idx ON telemetry (ts)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS telemetry_ts_idx`.execute(db);
}
