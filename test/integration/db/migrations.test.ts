// The migrations run from an empty database, are idempotent, revert to nothing, and pick the right backend.
import { sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MIGRATIONS, detectBackend, migrateDown, migrateToLatest } from '../../../libs/db/src/index.js';
import { describeEachBackend } from '../../setup/database.js';
import { createEmptyDatabase, type EmptyDatabase } from './helpers.js';

/** Every migration, oldest first: what a migration from empty applies and a full down reverts (in reverse). */
const ALL_MIGRATIONS = Object.keys(MIGRATIONS);

const SPECFLEET_TABLES = [
  'api_keys',
  'dead_letters',
  'energy_10min',
  'energy_daily',
  'energy_daily_watermark',
  'energy_hourly',
  'energy_monthly',
  'events',
  'service_accounts',
  'specfleet_meta',
  'telemetry',
  'tenant_vehicle_counts',
  'tenants',
  'vehicle_state',
  'vehicles',
];

describeEachBackend('migrations', (backend) => {
  let database: EmptyDatabase;
  const publicTables = async (): Promise<string[]> => {
    const { rows } = await sql<{ tablename: string }>`
      SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'kysely_%' ORDER BY tablename`.execute(database.db);
    return rows.map((r) => r.tablename);
  };

  beforeAll(async () => {
    database = await createEmptyDatabase(backend);
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('migrates an empty database to the latest schema and names the backend', async () => {
    const lines: string[] = [];
    const result = await migrateToLatest(database.db, (line) => lines.push(line));

    expect(result.applied).toEqual(ALL_MIGRATIONS);
    expect(result.backend).toBe(backend.kind);
    expect(await publicTables()).toEqual(SPECFLEET_TABLES);
    if (backend.kind === 'timescaledb') {
      expect(result.timescaledbVersion).toMatch(/^2\./);
      expect(lines[0]).toBe(
        `migrations: TimescaleDB ${result.timescaledbVersion} on PostgreSQL ${result.serverVersion} — telemetry and events are hypertables`,
      );
    } else {
      expect(result.timescaledbVersion).toBeUndefined();
      expect(lines[0]).toMatch(new RegExp(`^migrations: plain PostgreSQL ${result.serverVersion.replace('.', '\\.')} — `));
    }
    expect(lines[1]).toBe(`migrations: applied ${ALL_MIGRATIONS.join(', ')}`);
  });

  it(`makes telemetry and events hypertables only on TimescaleDB (${backend.kind})`, async () => {
    const info = await detectBackend(database.db);
    expect(info.backend).toBe(backend.kind);
    if (backend.kind === 'timescaledb') {
      const { rows } = await sql<{ hypertable_name: string }>`
        SELECT hypertable_name FROM timescaledb_information.hypertables ORDER BY hypertable_name`.execute(database.db);
      expect(rows.map((r) => r.hypertable_name)).toEqual(['events', 'telemetry']);
      const dims = await sql<{ hypertable_name: string; time_interval: { hours?: number; days?: number } }>`
        SELECT hypertable_name, time_interval FROM timescaledb_information.dimensions ORDER BY hypertable_name`.execute(database.db);
      expect(dims.rows.map((d) => [d.hypertable_name, d.time_interval])).toEqual([
        ['events', { days: 7 }],
        ['telemetry', { hours: 6 }],
      ]);
    } else {
      const ext = await sql`SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'`.execute(database.db);
      expect(ext.rows).toHaveLength(0);
    }
    // telemetry's indexes: a B-tree on ts alone on TimescaleDB (2026_12_01_100000: the energy report's short raw
    // parts), the BRIN index on ts on plain PostgreSQL.
    const indexes = await sql<{ indexname: string }>`
      SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'telemetry' ORDER BY indexname`.execute(database.db);
    expect(indexes.rows.map((r) => r.indexname)).toEqual(backend.kind === 'timescaledb' ? ['telemetry_pkey', 'telemetry_ts_idx'] : ['telemetry_pkey', 'telemetry_ts_brin_idx']);
  });

  it.runIf(backend.kind === 'timescaledb')('builds the index on ts on the chunks an existing deployment already has', async () => {
    await migrateDown(database.db);
    const TS_INDEX = '2026_12_01_100000_telemetry_ts_index';
    const before = Object.fromEntries(ALL_MIGRATIONS.filter((name) => name < TS_INDEX).map((name) => [name, MIGRATIONS[name]!]));
    expect((await new Migrator({ db: database.db, provider: { getMigrations: async () => before } }).migrateToLatest()).error).toBeUndefined();
    await sql`INSERT INTO telemetry (vehicle_id, ts, seq) VALUES ('SZ-OLD-0001', now() - interval '3 days', 1), ('SZ-OLD-0001', now(), 2)`.execute(database.db);
    const chunkIndexes = async () =>
      (
        await sql<{ n: number }>`
          SELECT count(*)::int AS n FROM pg_indexes WHERE schemaname = '_timescaledb_internal' AND indexdef LIKE '%USING btree (ts)'`.execute(database.db)
      ).rows[0]!.n;
    expect(await chunkIndexes()).toBe(0);
    expect((await migrateToLatest(database.db)).applied).toEqual(ALL_MIGRATIONS.filter((name) => name >= TS_INDEX));
    expect(await chunkIndexes()).toBe(2);
    await migrateDown(database.db);
    await migrateToLatest(database.db);
  });

  it('is a no-op when run again', async () => {
    const lines: string[] = [];
    const result = await migrateToLatest(database.db, (line) => lines.push(line));
    expect(result.applied).toEqual([]);
    expect(lines[1]).toBe('migrations: already up to date');
  });

  it('reverts to an empty schema, then migrates up again', async () => {
    const down = await migrateDown(database.db);
    expect(down.reverted).toEqual([...ALL_MIGRATIONS].reverse());
    expect(await publicTables()).toEqual([]);

    const again = await migrateToLatest(database.db);
    expect(again.applied).toEqual(ALL_MIGRATIONS);
    expect(again.backend).toBe(backend.kind);
    expect(await publicTables()).toEqual(SPECFLEET_TABLES);
  });

  it('records from when 10-minute energy rows are complete: always on a new database, from two hours on with telemetry already stored', async () => {
    const since = async () =>
      (await sql<{ value: string }>`SELECT value FROM specfleet_meta WHERE key = 'energy_10min_since'`.execute(database.db)).rows.map((r) => r.value);
    await migrateDown(database.db);
    await migrateToLatest(database.db);
    expect(await since()).toEqual(['-infinity']);
    // An existing deployment: telemetry stored before the migration, whose buckets nobody wrote.
    await migrateDown(database.db);
    const TEN_MINUTES = '2026_11_30_100000_energy_10min';
    const before = Object.fromEntries(ALL_MIGRATIONS.filter((name) => name < TEN_MINUTES).map((name) => [name, MIGRATIONS[name]!]));
    const partial = await new Migrator({ db: database.db, provider: { getMigrations: async () => before } }).migrateToLatest();
    expect(partial.error).toBeUndefined();
    await sql`INSERT INTO telemetry (vehicle_id, ts, seq) VALUES ('SZ-OLD-0001', now() - interval '3 days', 1)`.execute(database.db);
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    expect((await migrateToLatest(database.db)).applied).toEqual(ALL_MIGRATIONS.filter((name) => name >= TEN_MINUTES));
    const [value] = await since();
    // The start of the hour two hours after the migration's (the hour may turn between the two clocks).
    expect([hour + 2 * 3_600_000, hour + 3 * 3_600_000]).toContain(Date.parse(value!));
    await migrateDown(database.db);
    await migrateToLatest(database.db);
  });

  it('runs once when two processes migrate at the same time', async () => {
    await migrateDown(database.db);
    const [a, b] = await Promise.all([migrateToLatest(database.db), migrateToLatest(database.db)]);
    expect([...a.applied, ...b.applied]).toEqual(ALL_MIGRATIONS);
  });
});

describeEachBackend('migrations without the right to create the timescaledb extension', (backend) => {
  // A role that may create tables but not the timescaledb extension: CREATE EXTENSION fails inside the
  // migration's transaction, which must fall back to plain tables instead of failing (the same path as a server
  // that has the extension installed but not preloaded).
  it.runIf(backend.kind === 'timescaledb')('falls back to plain PostgreSQL and says why', async () => {
    const { randomBytes } = await import('node:crypto');
    const { withAdmin } = await import('../../setup/admin.js');
    const { createDatabase } = await import('../../../libs/db/src/index.js');
    const role = `sf_noext_${randomBytes(4).toString('hex')}`;
    const name = `${(backend.template ?? 'sf_tpl_x').replace('sf_tpl_', 'sf_e_')}_${randomBytes(4).toString('hex')}`;
    // TimescaleDB 2.x is a trusted extension: a database owner may create it. So the database belongs to the admin,
    // and the role only gets CREATE on the public schema (tables yes, extensions no).
    await withAdmin(backend.adminUrl, async (admin) => {
      await admin.query(`CREATE ROLE "${role}" LOGIN`);
      await admin.query(`CREATE DATABASE "${name}"`);
    });
    const url = new URL(backend.adminUrl);
    url.pathname = `/${name}`;
    await withAdmin(url.toString(), (admin) => admin.query(`GRANT CREATE ON SCHEMA public TO "${role}"`));
    url.username = role;
    url.password = '';
    const database = createDatabase(url.toString(), { max: 1 });
    try {
      const lines: string[] = [];
      const result = await migrateToLatest(database.db, (line) => lines.push(line));
      expect(result.backend).toBe('postgres');
      expect(result.applied).toEqual(ALL_MIGRATIONS);
      expect(lines[0]).toMatch(/^migrations: plain PostgreSQL \S+ — timescaledb extension available but not loadable \(permission denied/);
      const ext = await sql`SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'`.execute(database.db);
      expect(ext.rows).toHaveLength(0);
      expect((await detectBackend(database.db)).backend).toBe('postgres');
    } finally {
      await database.close();
      await withAdmin(backend.adminUrl, async (admin) => {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await admin.query(`DROP ROLE IF EXISTS "${role}"`);
      });
    }
  });
});
