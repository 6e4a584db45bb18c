// FleetQueryRepository.status: the counts per connectivity must equal what the per-row rule (the connectivity column
// of every listed vehicle) gives, for every kind of filter — including the path that counts without joining
// vehicle_state to vehicles, on a fleet with several report intervals and rows right at each threshold.
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ConnectivityValue, type DB, type FleetFilter, FleetQueryRepository, TenantRepository, VehicleRepository } from '../../../libs/db/src/index.js';
import { createTestDatabase, describeEachBackend, type TestDatabase } from '../../setup/database.js';

const NOW = new Date('2026-11-26T08:00:00.000Z');
const ago = (s: number) => new Date(NOW.getTime() - s * 1000);
const clock = { now: NOW, offlineAfterS: 900 };

describeEachBackend('fleet query repository', (backend) => {
  let database: TestDatabase;
  let repo: FleetQueryRepository;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    repo = new FleetQueryRepository(database.db);
    const tenants = new TenantRepository(database.db);
    await tenants.upsert({ id: 'mix', name: 'mixed intervals' });
    await tenants.upsert({ id: 'other', name: 'another tenant' });
    const vehicles = new VehicleRepository(database.db);
    // [id, report interval, powertrain, snapshot (undefined: never reported)]
    type Snap = { connected: boolean; seen: number | null; state?: string };
    const fleet: Array<[string, number, 'bev' | 'ice', Snap | undefined]> = [];
    let i = 0;
    for (const interval of [5, 10, 60]) {
      // 3 × interval is the online limit: just inside, exactly on it, just past it; then stale, the offline threshold
      // (900 s: exactly on it is still stale), past it, never a sample, disconnected, and no snapshot at all.
      for (const seen of [0, 3 * interval - 1, 3 * interval, 3 * interval + 1, 120, 899, 900, 901, null]) {
        fleet.push([`V${String(i++).padStart(3, '0')}`, interval, i % 2 ? 'bev' : 'ice', { connected: true, seen, state: i % 3 ? 'working' : 'idle' }]);
      }
      fleet.push([`V${String(i++).padStart(3, '0')}`, interval, 'bev', { connected: false, seen: 1 }]);
      fleet.push([`V${String(i++).padStart(3, '0')}`, interval, 'ice', undefined]);
    }
    for (const [id, reportIntervalS, powertrain, snap] of fleet) {
      await vehicles.create({ id, tenantId: 'mix', type: 'road_sweeper', bodyType: 'sweeper', powertrain, reportIntervalS, secretDigest: Buffer.alloc(32) });
      if (snap) {
        await database.db
          .insertInto('vehicle_state')
          .values({ vehicle_id: id, tenant_id: 'mix', connected: snap.connected, last_received_at: snap.seen === null ? null : ago(snap.seen), state: snap.state ?? null })
          .execute();
      }
    }
    // Another tenant's vehicles never count.
    await vehicles.create({ id: 'OTHER-1', tenantId: 'other', type: 'road_sweeper', bodyType: 'sweeper', powertrain: 'bev', secretDigest: Buffer.alloc(32) });
    await database.db.insertInto('vehicle_state').values({ vehicle_id: 'OTHER-1', tenant_id: 'other', connected: true, last_received_at: ago(1) }).execute();
  });
  afterAll(async () => {
    await database?.drop();
  });

  const byRule = async (filter: FleetFilter): Promise<Record<ConnectivityValue, number>> => {
    const { connectivity: _ignored, ...rest } = filter;
    const out = { online: 0, stale: 0, offline: 0 };
    for (const v of await repo.listAll('mix', rest, clock)) out[v.connectivity] += 1;
    return out;
  };

  it('counts what the per-row rule says, with and without filters, whatever the page holds', async () => {
    const filters: FleetFilter[] = [{}, { state: 'working' }, { state: 'none-such' }, { powertrain: 'bev' }, { powertrain: 'ice', state: 'idle' }, { connectivity: 'online' }, { connectivity: 'stale', state: 'working' }];
    for (const filter of filters) {
      const expected = await byRule(filter);
      for (const page of [{ limit: 5 }, { limit: 1000 }, { limit: 5, afterId: 'V999' }]) {
        const { counts, rows } = await repo.status('mix', filter, clock, page);
        expect(counts, JSON.stringify({ filter, page })).toEqual(expected);
        if (page.afterId) expect(rows).toEqual([]);
      }
    }
    // The boundary rows land where SPEC §5 puts them: per interval online at 0, 3i − 1 and 3i s (and at 120 s for
    // the 60 s interval), offline past 900 s, disconnected or without a snapshot; stale otherwise.
    expect(await byRule({})).toEqual({ online: 10, stale: 14, offline: 9 });
  });

  it('pages in id order with the same connectivity as the full row', async () => {
    const { rows } = await repo.status('mix', {}, clock, { limit: 1000 });
    const full = await repo.listAll('mix', {}, clock);
    expect(rows.map((r) => [r.id, r.connectivity])).toEqual(full.map((r) => [r.id, r.connectivity]));
    const online = await repo.status('mix', { connectivity: 'online' }, clock, { limit: 3 });
    expect(online.rows.map((r) => r.connectivity)).toEqual(['online', 'online', 'online', 'online']);
  });

  it('writes last_seen exactly as Date.toISOString() of the stored time (milliseconds truncated), null when never', async () => {
    // Microseconds that must be cut, not rounded, as node-pg's Date (millisecond precision) did.
    await database.db.updateTable('vehicle_state').set({ last_received_at: sql`'2026-11-26 07:59:58.999999+00'::timestamptz` }).where('vehicle_id', '=', 'V000').execute();
    await database.db.updateTable('vehicle_state').set({ last_received_at: sql`'2026-11-26 15:59:50.0205+08'::timestamptz` }).where('vehicle_id', '=', 'V001').execute();
    try {
      const { rows } = await repo.status('mix', {}, clock, { limit: 1000 });
      const stored = await database.db.selectFrom('vehicle_state').select(['vehicle_id', 'last_received_at']).where('tenant_id', '=', 'mix').execute();
      const expected = new Map(stored.map((r) => [r.vehicle_id, r.last_received_at === null ? null : r.last_received_at.toISOString()]));
      expect(rows.map((r) => [r.id, r.lastSeen])).toEqual(rows.map((r) => [r.id, expected.get(r.id) ?? null]));
      expect(rows.find((r) => r.id === 'V000')?.lastSeen).toBe('2026-11-26T07:59:58.999Z');
      expect(rows.find((r) => r.id === 'V001')?.lastSeen).toBe('2026-11-26T07:59:50.020Z');
      expect(rows.filter((r) => r.lastSeen === null).map((r) => r.id)).toEqual(['V008', 'V010', 'V019', 'V021', 'V030', 'V032']);
    } finally {
      await database.db.updateTable('vehicle_state').set({ last_received_at: ago(0) }).where('vehicle_id', '=', 'V000').execute();
      await database.db.updateTable('vehicle_state').set({ last_received_at: ago(3 * 5 - 1) }).where('vehicle_id', '=', 'V001').execute();
    }
  });

  it('answers the same through the prepared statements (past the switch to a generic plan), unnamed on a plain Kysely, and for page sizes beyond those it prepares', async () => {
    const filters: FleetFilter[] = [{}, { powertrain: 'bev', connectivity: 'stale' }, { state: 'working', connectivity: 'online' }];
    // A Kysely over its own pool (not made by createDatabase): the statements run unnamed, as under the benchmark's EXPLAIN.
    const pool = new pg.Pool({ connectionString: database.url, max: 1 });
    const plain = new FleetQueryRepository(new Kysely<DB>({ dialect: new PostgresDialect({ pool }) }));
    try {
      for (const filter of filters) {
        const expected = await plain.status('mix', filter, clock, { limit: 4, afterId: 'V002' });
        // Seven runs on one connection: PostgreSQL plans the first five, then keeps a generic plan.
        for (let run = 0; run < 7; run++) expect(await repo.status('mix', filter, clock, { limit: 4, afterId: 'V002' }), JSON.stringify({ filter, run })).toEqual(expected);
      }
      // More shapes × page sizes than are prepared: the rest run unnamed, with the same answers.
      for (let limit = 1; limit <= 40; limit++) {
        const { rows, counts } = await repo.status('mix', {}, clock, { limit });
        expect(rows.map((r) => r.id)).toEqual((await plain.status('mix', {}, clock, { limit })).rows.map((r) => r.id));
        expect(rows).toHaveLength(Math.min(limit + 1, 33));
        expect(counts).toEqual({ online: 10, stale: 14, offline: 9 });
      }
    } finally {
      await pool.end();
    }
  });
});
