// /fleet/health pages walk every vehicle exactly once even when the database sorts text by a linguistic collation
// (en_US.UTF-8 on RDS, Debian, Ubuntu puts "a-1" before "Z-1"), because the SQL order and the page cut agree.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEachBackend } from '../../setup/database.js';
import { type QueryHarness, seedVehicle, startQueryHarness } from './harness.js';

describeEachBackend('fleet health pagination', (backend) => {
  let h: QueryHarness;
  const ids = ['a-1', 'Z-1', 'b.2', 'B_2', '0-9', 'z-0'];
  beforeAll(async () => {
    h = await startQueryHarness(backend);
    // The test databases sort in C order; give vehicles.id the ICU en-US collation, as an en_US.UTF-8 database has.
    await sql`ALTER TABLE vehicles ALTER COLUMN id TYPE text COLLATE "en-US-x-icu"`.execute(h.database.db);
    for (const id of ids) await seedVehicle(h.database, { id });
  });
  afterAll(async () => h?.close());

  it('walks every vehicle once with limit=1', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < ids.length + 2; page++) {
      const r = await h.request('GET', `/api/v1/fleet/health?limit=1${cursor ? `&cursor=${cursor}` : ''}`, h.keys.acme.operator);
      expect(r.status).toBe(200);
      seen.push(...r.body.items.map((v: { vehicle_id: string }) => v.vehicle_id));
      cursor = r.body.next_cursor;
      if (cursor === null) break;
    }
    expect(seen).toEqual([...ids].sort());
  });
});
