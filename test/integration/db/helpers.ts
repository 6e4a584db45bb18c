// Shared bits of the libs/db integration tests: an EMPTY database (for the migration tests, which must start from
// nothing rather than from the migrated template), and tiny row factories.
import { randomBytes } from 'node:crypto';
import { createDatabase, type Database, type NewTelemetryRow } from '../../../libs/db/src/index.js';
import { withAdmin } from '../../setup/admin.js';
import type { TestBackend } from '../../setup/database.js';

export interface EmptyDatabase extends Database {
  name: string;
  drop(): Promise<void>;
}

/** A brand-new empty database on the backend (named after the run's template, so the run's teardown drops it too). */
export async function createEmptyDatabase(backend: TestBackend): Promise<EmptyDatabase> {
  const prefix = backend.template ? backend.template.replace('sf_tpl_', 'sf_e_') : 'sf_e';
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  await withAdmin(backend.adminUrl, (admin) => admin.query(`CREATE DATABASE "${name}"`));
  const url = new URL(backend.adminUrl);
  url.pathname = `/${name}`;
  const database = createDatabase(url.toString(), { max: 2, statementTimeoutMs: 0, applicationName: 'specfleet-test-migrations' });
  return {
    ...database,
    name,
    drop: async () => {
      await database.close();
      await withAdmin(backend.adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

export const T0 = Date.parse('2026-11-26T08:00:00.000Z');

export function telemetryRow(vehicleId: string, seq: number, overrides: Partial<NewTelemetryRow> = {}): NewTelemetryRow {
  return {
    vehicle_id: vehicleId,
    ts: new Date(T0 + seq * 10_000),
    seq,
    lat: 31.6902,
    lon: 113.3824,
    speed_kmh: 32.5,
    odometer_km: 15234.2 + seq * 0.1,
    state: 'working',
    soc_pct: 78.5,
    traction_kwh: 18234.5 + seq,
    body_type: 'sweeper',
    body_active: true,
    body_signals: { brush_rpm: 120, water_l: 1800 },
    ...overrides,
  };
}
