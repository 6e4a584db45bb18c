// What the query API's integration tests share: a fresh migrated database, two tenants with operator, admin and
// revoked keys, the HTTP app on it (driven with app.inject), and seeding helpers for vehicles, vehicle_state,
// energy_hourly, energy_10min and telemetry.
import { createLogger } from '@fleet/config';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Insertable } from 'kysely';
import {
  ApiKeyRepository,
  ENERGY_HOURLY_COUNTERS,
  type NewEnergy10MinRow,
  type NewTelemetryRow,
  TelemetryRepository,
  TenantRepository,
  VehicleRepository,
  type VehicleStateTable,
} from '../../../libs/db/src/index.js';
import { type CounterReadings, type CounterSample, hourlyIncreases, tenMinuteStart } from '../../../apps/ingestion/src/energy/energy-increase.js';
import { digestOf, generateApiKey, keyPrefix } from '../../../apps/query/src/auth/api-key.js';
import { createQueryApp } from '../../../apps/query/src/query.app.js';
import type { QueryOptionsInput } from '../../../apps/query/src/query.options.js';
import { createTestDatabase, type TestBackend, type TestDatabase } from '../../setup/database.js';

export interface Keys {
  operator: string;
  admin: string;
  revoked: string;
}

export interface QueryHarness {
  database: TestDatabase;
  app: NestFastifyApplication;
  /** Tenant "acme" (the one under test) and "other" (whose rows must never show). */
  keys: { acme: Keys; other: Keys };
  request(method: 'GET' | 'POST', url: string, key?: string, body?: unknown): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

async function seedKeys(database: TestDatabase, tenantId: string): Promise<Keys> {
  const repo = new ApiKeyRepository(database.db);
  const make = async (role: 'operator' | 'admin', name: string) => {
    const key = generateApiKey();
    const created = await repo.create({ tenantId, role, digest: digestOf(key), prefix: keyPrefix(key), name });
    return { key, id: created.id };
  };
  const operator = await make('operator', 'ops');
  const admin = await make('admin', 'admin');
  const revoked = await make('admin', 'old');
  await repo.revoke(revoked.id);
  return { operator: operator.key, admin: admin.key, revoked: revoked.key };
}

export async function startQueryHarness(backend: TestBackend, options: QueryOptionsInput = {}): Promise<QueryHarness> {
  const database = await createTestDatabase(backend);
  const tenants = new TenantRepository(database.db);
  await tenants.upsert({ id: 'acme', name: 'Acme Sanitation' });
  await tenants.upsert({ id: 'other', name: 'Other Logistics' });
  const keys = { acme: await seedKeys(database, 'acme'), other: await seedKeys(database, 'other') };
  const app = await createQueryApp({ db: database.db, logger: createLogger('query-test', 'silent'), options });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return {
    database,
    app,
    keys,
    async request(method, url, key, body) {
      const response = await app.inject({
        method,
        url,
        headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
      });
      let parsed: unknown = response.body;
      try {
        parsed = JSON.parse(response.body);
      } catch {
        // not JSON (metrics, docs)
      }
      return { status: response.statusCode, body: parsed, headers: response.headers };
    },
    async close() {
      await app.close();
      await database.drop();
    },
  };
}

export interface VehicleSeed {
  id: string;
  tenantId?: string;
  type?: string;
  bodyType?: 'sweeper' | 'compactor' | 'sprinkler' | 'reefer' | 'pump' | 'ladder' | 'medical' | 'tanker' | 'none';
  powertrain?: 'bev' | 'fcev' | 'ice' | 'phev';
  h2CapacityKg?: number;
  reportIntervalS?: number;
}

export async function seedVehicle(database: TestDatabase, v: VehicleSeed): Promise<void> {
  await new VehicleRepository(database.db).create({
    id: v.id,
    tenantId: v.tenantId ?? 'acme',
    type: v.type ?? 'road_sweeper',
    bodyType: v.bodyType ?? 'sweeper',
    powertrain: v.powertrain ?? 'bev',
    ...(v.h2CapacityKg !== undefined ? { h2CapacityKg: v.h2CapacityKg } : {}),
    ...(v.reportIntervalS !== undefined ? { reportIntervalS: v.reportIntervalS } : {}),
  });
}

/** Writes the vehicle's snapshot (ingestion's job in production). */
export async function seedState(database: TestDatabase, state: Omit<Insertable<VehicleStateTable>, 'tenant_id'> & { tenant_id?: string }): Promise<void> {
  await database.db
    .insertInto('vehicle_state')
    .values({ tenant_id: 'acme', ...state, active_alarms: JSON.stringify(state.active_alarms ?? {}) })
    .execute();
}

export async function seedTelemetry(database: TestDatabase, rows: NewTelemetryRow[]): Promise<void> {
  await new TelemetryRepository(database.db).insertBatch(rows);
}

/**
 * energy_10min rows as ingestion makes them of these telemetry rows: per vehicle and 10-minute bucket, the samples and
 * the increases of ingestion's reference rule (hourlyIncreases by bucket).
 */
export function referenceBuckets(rows: readonly NewTelemetryRow[]): NewEnergy10MinRow[] {
  const byVehicle = new Map<string, CounterSample[]>();
  for (const r of rows) {
    const counters: CounterReadings = {};
    for (const [column, counter] of ENERGY_HOURLY_COUNTERS) counters[column] = (r[counter] as number | null | undefined) ?? null;
    const list = byVehicle.get(r.vehicle_id) ?? [];
    list.push({ tsMs: new Date(r.ts as Date).getTime(), seq: Number(r.seq), counters });
    byVehicle.set(r.vehicle_id, list);
  }
  const out: NewEnergy10MinRow[] = [];
  for (const [vehicle_id, samples] of byVehicle) {
    const increases = hourlyIncreases(samples, tenMinuteStart);
    const counts = new Map<number, number>();
    const seen = new Set<string>();
    for (const s of samples) {
      if (seen.has(`${s.tsMs}/${s.seq}`)) continue; // a repeated (ts, seq) is one stored sample
      seen.add(`${s.tsMs}/${s.seq}`);
      const bucket = tenMinuteStart(s.tsMs);
      counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
    }
    for (const [bucket, samplesIn] of counts) out.push({ vehicle_id, bucket: new Date(bucket), samples: samplesIn, ...(increases.get(bucket) ?? {}) });
  }
  return out;
}
