// vehicle_state.dtcs_at: the ts of the newest sample whose `dtc` list was applied (the complete set of DTCs active at
// that time, SPEC §3). A `dtc` event older than it is history that list already accounts for: applied afterwards, it
// would bring back a code the newer list had cleared. Null until a sample with a list is stored.
//
// Frozen in time: imports nothing from the app, takes Kysely<any>, raw SQL only.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE vehicle_state ADD COLUMN dtcs_at timestamptz`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE vehicle_state DROP COLUMN IF EXISTS dtcs_at`.execute(db);
}
