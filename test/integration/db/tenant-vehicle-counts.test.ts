// tenant_vehicle_counts (migration 2026_11_28_100000) is what the fleet-status counts take as the tenant's number of
// vehicles. It is kept by triggers on vehicles, so it must equal count(*) of the registry after every kind of write:
// provisioning one by one and concurrently, multi-row inserts, rotation (an update that moves nothing), deletes, a
// vehicle moved to another tenant, and TRUNCATE.
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FleetQueryRepository, TenantRepository, VehicleRepository } from '../../../libs/db/src/index.js';
import { createTestDatabase, describeEachBackend, type TestDatabase } from '../../setup/database.js';

describeEachBackend('tenant vehicle counts', (backend) => {
  let database: TestDatabase;
  let vehicles: VehicleRepository;

  beforeAll(async () => {
    database = await createTestDatabase(backend, { poolMax: 8 });
    vehicles = new VehicleRepository(database.db);
    const tenants = new TenantRepository(database.db);
    for (const id of ['a', 'b', 'c', 'd']) await tenants.upsert({ id, name: `tenant ${id}` });
  });
  afterAll(async () => {
    await database?.drop();
  });

  /** The kept counts and the registry's own, per tenant (a tenant without vehicles: absent or 0 in the kept ones). */
  const both = async (): Promise<{ kept: Record<string, number>; counted: Record<string, number> }> => {
    const kept = await database.db.selectFrom('tenant_vehicle_counts').select(['tenant_id', 'vehicles']).where('vehicles', '>', 0).execute();
    const counted = await database.db
      .selectFrom('vehicles')
      .select(['tenant_id', (eb) => eb.fn.countAll<string>().as('n')])
      .groupBy('tenant_id')
      .execute();
    return {
      kept: Object.fromEntries(kept.map((r) => [r.tenant_id, r.vehicles])),
      counted: Object.fromEntries(counted.map((r) => [r.tenant_id, Number(r.n)])),
    };
  };
  const create = (id: string, tenantId: string) =>
    vehicles.create({ id, tenantId, type: 'road_sweeper', bodyType: 'sweeper', powertrain: 'bev', secretDigest: Buffer.alloc(32) });

  it('follows every kind of write to vehicles', async () => {
    // 40 provisioning transactions on 8 connections at once: the increments must not overwrite each other.
    await Promise.all(Array.from({ length: 40 }, (_, i) => create(`A${String(i).padStart(2, '0')}`, i % 4 === 0 ? 'b' : 'a')));
    expect(await both()).toEqual({ kept: { a: 30, b: 10 }, counted: { a: 30, b: 10 } });

    // One statement, many rows and two tenants.
    await sql`INSERT INTO vehicles (id, tenant_id, type, body_type, powertrain)
      SELECT 'M' || g, CASE WHEN g % 2 = 0 THEN 'b' ELSE 'c' END, 'road_sweeper', 'sweeper', 'bev' FROM generate_series(1, 9) g`.execute(database.db);
    expect((await both()).kept).toEqual({ a: 30, b: 14, c: 5 });

    // Rotation updates a vehicle without moving it.
    expect(await vehicles.rotateSecret('A01', Buffer.alloc(32, 1))).toBe(true);
    await sql`UPDATE vehicles SET report_interval_s = 20 WHERE tenant_id = 'a'`.execute(database.db);
    expect((await both()).kept).toEqual({ a: 30, b: 14, c: 5 });

    // Moved between tenants (to one with no row yet, too), then deleted.
    await sql`UPDATE vehicles SET tenant_id = CASE id WHEN 'A04' THEN 'd' ELSE 'c' END WHERE id IN ('A01', 'A02', 'A04')`.execute(database.db);
    expect((await both()).kept).toEqual({ a: 28, b: 13, c: 7, d: 1 });
    await sql`DELETE FROM vehicles WHERE tenant_id IN ('c', 'd') OR id = 'A03'`.execute(database.db);
    let now = await both();
    expect(now.kept).toEqual({ a: 27, b: 13 });
    expect(now.kept).toEqual(now.counted);

    // What the fleet status reports as the fleet's size is the kept count.
    const repo = new FleetQueryRepository(database.db);
    const status = await repo.status('a', {}, { now: new Date(), offlineAfterS: 900 }, { limit: 5 });
    expect(status.counts).toEqual({ online: 0, stale: 0, offline: 27 });

    await sql`TRUNCATE vehicles CASCADE`.execute(database.db);
    now = await both();
    expect(now).toEqual({ kept: {}, counted: {} });
    await create('AFTER', 'a');
    expect((await both()).kept).toEqual({ a: 1 });
  });
});
