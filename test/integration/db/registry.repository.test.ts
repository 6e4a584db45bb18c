// Events, dead letters and the registry repositories (tenants, vehicles, API keys, service accounts).
import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  ApiKeyRepository,
  DEAD_LETTER_RAW_LIMIT,
  DeadLetterRepository,
  EventsRepository,
  HealthRepository,
  type NewEventRow,
  ServiceAccountRepository,
  TELEMETRY_COLUMNS,
  TenantRepository,
  VehicleRepository,
} from '../../../libs/db/src/index.js';
import type { DB } from '../../../libs/db/src/index.js';
import { createTestDatabase, describeEachBackend, type TestDatabase } from '../../setup/database.js';
import { T0 } from './helpers.js';

const sha256 = (s: string | Buffer): Buffer => createHash('sha256').update(s).digest();

describeEachBackend('repositories', (backend) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('EventsRepository.insertBatch is idempotent on (vehicle_id, ts, seq)', async () => {
    const repo = new EventsRepository(database.db);
    const alarm: NewEventRow = {
      vehicle_id: 'SZ-SAN-0001',
      ts: new Date(T0),
      seq: 77,
      kind: 'alarm',
      code: 'BATTERY_HIGH_TEMP',
      level: 3,
      active: true,
      message: 'pack 62 °C',
      data: { temp_max_c: 62 },
    };
    const cleared = { ...alarm, seq: 78, ts: new Date(T0 + 60_000), active: false, data: null };
    expect(await repo.insertBatch([alarm, alarm, cleared])).toEqual({ inserted: 2, duplicates: 1 });
    expect(await repo.insertBatch([alarm])).toEqual({ inserted: 0, duplicates: 1 });
    const rows = await database.db.selectFrom('events').selectAll().orderBy('ts', 'desc').execute();
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({ ...alarm, seq: 77, level: 3, data: { temp_max_c: 62 } });
    expect(rows[0]).toMatchObject({ active: false, data: null });
  });

  it('DeadLetterRepository truncates raw to 4 KiB and keeps raw_size', async () => {
    const repo = new DeadLetterRepository(database.db);
    const big = randomBytes(10_000);
    const written = await repo.insert([
      { topic: 'fleet/SZ-SAN-0001/telemetry', vehicleId: 'SZ-SAN-0001', reason: 'oversize', detail: 'payload 10000 bytes', raw: big },
      { topic: 'fleet/x/telemetry', reason: 'malformed_json', raw: '{"v":1,' },
      { topic: 'foreign/topic', reason: 'unknown_topic' },
    ]);
    expect(written).toBe(3);
    const rows = await database.db.selectFrom('dead_letters').selectAll().orderBy('id').execute();
    expect(rows.map((r) => [r.reason, r.raw?.length ?? null, r.raw_size])).toEqual([
      ['oversize', DEAD_LETTER_RAW_LIMIT, 10_000],
      ['malformed_json', 7, 7],
      ['unknown_topic', null, 0],
    ]);
    expect(rows[0]?.raw?.equals(big.subarray(0, DEAD_LETTER_RAW_LIMIT))).toBe(true);
    expect(rows[0]?.vehicle_id).toBe('SZ-SAN-0001');
    expect(typeof rows[0]?.id).toBe('number');
    expect(rows[1]?.vehicle_id).toBeNull();
  });

  it('tenants, vehicles and their credentials', async () => {
    const tenants = new TenantRepository(database.db);
    const vehicles = new VehicleRepository(database.db);
    await tenants.upsert({ id: 'acme', name: 'Acme' });
    expect(await tenants.upsert({ id: 'acme', name: 'Acme Sanitation' })).toMatchObject({ id: 'acme', name: 'Acme Sanitation' });
    await tenants.upsert({ id: 'other', name: 'Other' });
    expect(await tenants.find('nope')).toBeUndefined();

    const digest = sha256('secret-1');
    const created = await vehicles.create({
      id: 'SZ-SAN-0001',
      tenantId: 'acme',
      type: 'road_sweeper',
      bodyType: 'sweeper',
      powertrain: 'bev',
      batteryKwh: 281.9,
      secretDigest: digest,
    });
    expect(created).toMatchObject({ id: 'SZ-SAN-0001', tenantId: 'acme', reportIntervalS: 10, vin: null, batteryKwh: 281.9 });
    expect(created.credentialsRotatedAt).toBeInstanceOf(Date);
    expect(created).not.toHaveProperty('secretDigest');
    await vehicles.create({ id: 'FE-0001', tenantId: 'other', type: 'fire_engine', bodyType: 'pump', powertrain: 'ice', reportIntervalS: 5 });

    await expect(vehicles.create({ id: 'SZ-SAN-0001', tenantId: 'other', type: 'x', bodyType: 'none', powertrain: 'bev' })).rejects.toMatchObject({ code: '23505' });
    await expect(vehicles.create({ id: 'bad/id', tenantId: 'acme', type: 'x', bodyType: 'none', powertrain: 'bev' })).rejects.toMatchObject({ code: '23514' });

    expect((await vehicles.findCredential('SZ-SAN-0001'))?.secretDigest?.equals(digest)).toBe(true);
    expect(await vehicles.findCredential('FE-0001')).toEqual({ tenantId: 'other', secretDigest: null });
    expect(await vehicles.findCredential('nope')).toBeUndefined();

    const rotated = sha256('secret-2');
    expect(await vehicles.rotateSecret('SZ-SAN-0001', rotated)).toBe(true);
    expect(await vehicles.rotateSecret('nope', rotated)).toBe(false);
    expect((await vehicles.findCredential('SZ-SAN-0001'))?.secretDigest?.equals(rotated)).toBe(true);

    expect((await vehicles.listByTenant('acme')).map((v) => v.id)).toEqual(['SZ-SAN-0001']);
    expect((await vehicles.findById('FE-0001'))?.reportIntervalS).toBe(5);

    // vehicle_state's tenant follows the vehicle's (composite foreign key), and a wrong one is refused.
    await database.db.insertInto('vehicle_state').values({ vehicle_id: 'SZ-SAN-0001', tenant_id: 'acme' }).execute();
    await expect(
      database.db.insertInto('vehicle_state').values({ vehicle_id: 'FE-0001', tenant_id: 'acme' }).execute(),
    ).rejects.toMatchObject({ code: '23503' });
    const state = await database.db.selectFrom('vehicle_state').selectAll().executeTakeFirstOrThrow();
    expect(state).toMatchObject({ connected: false, active_alarms: {}, alarm_max_level: 0, active_dtcs: [] });
  });

  it('API key lookup by digest ignores revoked keys', async () => {
    const tenants = new TenantRepository(database.db);
    const keys = new ApiKeyRepository(database.db);
    await tenants.upsert({ id: 'keys-tenant', name: 'Keys' });
    const plain = `sfk_${randomBytes(32).toString('base64url')}`;
    const key = await keys.create({ tenantId: 'keys-tenant', role: 'admin', digest: sha256(plain), prefix: plain.slice(0, 8), name: 'ops' });
    expect(key).toMatchObject({ tenantId: 'keys-tenant', role: 'admin', prefix: plain.slice(0, 8), revokedAt: null });
    expect(key.id).toMatch(/^[0-9a-f-]{36}$/);

    expect((await keys.findByDigest(sha256(plain)))?.id).toBe(key.id);
    expect(await keys.findByDigest(sha256('wrong'))).toBeUndefined();

    expect(await keys.revoke(key.id, 'other-tenant')).toBe(false);
    expect(await keys.revoke(key.id, 'keys-tenant')).toBe(true);
    expect(await keys.revoke(key.id)).toBe(false);
    expect(await keys.findByDigest(sha256(plain))).toBeUndefined();

    const listed = await keys.listByTenant('keys-tenant');
    expect(listed).toHaveLength(1);
    expect(listed[0]?.revokedAt).toBeInstanceOf(Date);

    await expect(
      keys.create({ tenantId: 'keys-tenant', role: 'superuser' as 'admin', digest: sha256('x'), prefix: 'x' }),
    ).rejects.toMatchObject({ code: '23514' });
  });

  it('service accounts: upsert, credential lookup, disable', async () => {
    const accounts = new ServiceAccountRepository(database.db);
    await accounts.upsert('ingest-1', sha256('a'));
    await accounts.upsert('ingest-1', sha256('b'));
    expect((await accounts.findCredential('ingest-1'))?.secretDigest.equals(sha256('b'))).toBe(true);
    expect(await accounts.disable('ingest-1')).toBe(true);
    expect(await accounts.findCredential('ingest-1')).toBeUndefined();
    expect((await accounts.upsert('ingest-1', sha256('c'))).disabledAt).toBeNull();
  });

  // One namespace of MQTT usernames: the broker checks service accounts first, so a vehicle with a service account's id
  // (or the other way round) could never log in.
  it('keeps vehicle ids and service account ids apart', async () => {
    const accounts = new ServiceAccountRepository(database.db);
    const vehicles = new VehicleRepository(database.db);
    await new TenantRepository(database.db).upsert({ id: 'apart', name: 'Apart' });
    await accounts.upsert('ingest-apart', sha256('a'));
    const err = await vehicles.create({ id: 'ingest-apart', tenantId: 'apart', type: 'delivery_van', bodyType: 'none', powertrain: 'bev' }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('23505');
    expect(await vehicles.findById('ingest-apart')).toBeUndefined();
    await vehicles.create({ id: 'V-APART', tenantId: 'apart', type: 'delivery_van', bodyType: 'none', powertrain: 'bev' });
    expect(await accounts.create('V-APART', sha256('b'))).toBe(false);
    expect(await accounts.findCredential('V-APART')).toBeUndefined();
  });

  it('HealthRepository.ping answers', async () => {
    await expect(new HealthRepository(database.db).ping()).resolves.toBeUndefined();
  });

  it('energy_hourly rows default every counter to 0', async () => {
    await database.db.insertInto('energy_hourly').values({ vehicle_id: 'SZ-SAN-0001', hour: new Date(T0) }).execute();
    const row = await database.db.selectFrom('energy_hourly').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ distance_km: 0, body_hours: 0, samples: 0 });
    await sql`DELETE FROM energy_hourly`.execute(database.db);
  });
});

describeEachBackend('table interfaces', (backend) => {
  // The TS interfaces and the migration must agree; a column on one side only is a bug waiting for a query.
  it('every table has exactly the columns its interface declares', async () => {
    const database = await createTestDatabase(backend);
    try {
      const { rows } = await sql<{ table_name: string; columns: string[] }>`
        SELECT table_name, array_agg(column_name::text ORDER BY column_name) AS columns
        FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT LIKE 'kysely_%'
        GROUP BY table_name ORDER BY table_name`.execute(database.db);
      const actual = Object.fromEntries(rows.map((r) => [r.table_name, r.columns]));
      expect(actual).toEqual(EXPECTED_COLUMNS);
    } finally {
      await database.drop();
    }
  });
});

// Keys of each table interface, spelled out (keyof is not available at runtime); the types check each name exists.
type Columns = { [T in keyof DB]: Array<keyof DB[T] & string> };
type Exact<T> = { [K in keyof T]: T[K] };
const cols = <T extends keyof DB>(...names: Array<keyof DB[T] & string>) =>
  [...names].sort() as Array<keyof DB[T] & string>;
const EXPECTED_COLUMNS: Exact<Columns> = {
  api_keys: cols<'api_keys'>('id', 'tenant_id', 'role', 'digest', 'prefix', 'name', 'created_at', 'revoked_at'),
  dead_letters: cols<'dead_letters'>('id', 'received_at', 'topic', 'vehicle_id', 'reason', 'detail', 'raw', 'raw_size'),
  energy_daily: cols<'energy_daily'>(
    'vehicle_id', 'day', 'distance_km', 'traction_kwh', 'body_kwh', 'regen_kwh', 'charged_kwh', 'h2_kg', 'fuel_l',
    'engine_hours', 'body_hours', 'samples', 'hours',
  ),
  energy_daily_watermark: cols<'energy_daily_watermark'>('only_row', 'hour'),
  energy_10min: cols<'energy_10min'>(
    'vehicle_id', 'bucket', 'distance_km', 'traction_kwh', 'body_kwh', 'regen_kwh', 'charged_kwh', 'h2_kg', 'fuel_l',
    'engine_hours', 'body_hours', 'samples', 'updated_at',
  ),
  energy_monthly: cols<'energy_monthly'>(
    'vehicle_id', 'month', 'distance_km', 'traction_kwh', 'body_kwh', 'regen_kwh', 'charged_kwh', 'h2_kg', 'fuel_l',
    'engine_hours', 'body_hours', 'samples', 'hours',
  ),
  energy_hourly: cols<'energy_hourly'>(
    'vehicle_id', 'hour', 'distance_km', 'traction_kwh', 'body_kwh', 'regen_kwh', 'charged_kwh', 'h2_kg', 'fuel_l',
    'engine_hours', 'body_hours', 'samples', 'updated_at',
  ),
  events: cols<'events'>('ts', 'seq', 'received_at', 'level', 'active', 'vehicle_id', 'kind', 'code', 'message', 'data'),
  service_accounts: cols<'service_accounts'>('id', 'secret_digest', 'created_at', 'disabled_at'),
  specfleet_meta: cols<'specfleet_meta'>('key', 'value', 'updated_at'),
  telemetry: TELEMETRY_COLUMNS.map((c) => c.name).sort(),
  tenants: cols<'tenants'>('id', 'name', 'created_at'),
  tenant_vehicle_counts: cols<'tenant_vehicle_counts'>('tenant_id', 'vehicles'),
  vehicle_state: cols<'vehicle_state'>(
    'vehicle_id', 'tenant_id', 'last_ts', 'last_seq', 'last_received_at', 'connected', 'connected_at', 'disconnected_at',
    'fw', 'state', 'lat', 'lon', 'speed_kmh', 'heading_deg', 'odometer_km', 'soc_pct', 'h2_mass_kg', 'fuel_level_pct',
    'battery_temp_max_c', 'battery_temp_min_c', 'cell_v_max', 'cell_v_min', 'soh_pct', 'body_active', 'body_power_kw',
    'traction_kwh', 'body_kwh', 'regen_kwh', 'charged_kwh', 'h2_used_kg', 'fuel_used_l', 'engine_hours', 'body_hours',
    'active_alarms', 'alarm_max_level', 'active_dtcs', 'alarms_changed_at', 'updated_at', 'last_odometer_km', 'alarm_changed',
    'dtcs_at',
  ),
  vehicles: cols<'vehicles'>(
    'id', 'tenant_id', 'type', 'body_type', 'powertrain', 'vin', 'model', 'battery_kwh', 'h2_capacity_kg',
    'fuel_capacity_l', 'report_interval_s', 'secret_digest', 'credentials_rotated_at', 'created_at',
  ),
};
