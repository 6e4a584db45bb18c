// vehicle_state gets the two things ingestion still needs to keep it right under out-of-order input:
// - last_odometer_km: the odometer of the newest stored sample exactly as stored (null when that sample had none).
//   odometer_km stays the display value (last known); the energy chain needs the exact one, like the other counters.
// - alarm_changed: per alarm/DTC code, the time of the newest event applied to it ('alarm:CODE' | 'dtc:CODE' →
//   epoch ms), so a late event never undoes a newer one.
//
// Frozen in time: imports nothing from the app, takes Kysely<any>, raw SQL only.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE vehicle_state
      ADD COLUMN last_odometer_km double precision,
      ADD COLUMN alarm_changed    jsonb NOT NULL DEFAULT '{}'::jsonb
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE vehicle_state
      DROP COLUMN IF EXISTS last_odometer_km,
      DROP COLUMN IF EXISTS alarm_changed
  `.execute(db);
}
