// Runs the schema migrations (kysely Migrator over an explicit, statically imported list) — as a library and as a CLI:
//   node --import ./scripts/register.mjs libs/db/src/migrate.ts [up|down]     (reads DATABASE_URL)
import { loadConfigOrExit } from '@fleet/config';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Kysely } from 'kysely';
import { type Migration, type MigrationProvider, type MigrationResultSet, Migrator, NO_MIGRATIONS } from 'kysely/migration';
import { type StorageBackend, describeBackend, detectBackend } from './backend.js';
import { createDatabase } from './database.js';
import * as m20261126130000 from './migrations/2026_11_26_130000_initial_schema.js';
import * as m20261126150000 from './migrations/2026_11_26_150000_vehicle_state_counters.js';
import * as m20261126180000 from './migrations/2026_11_26_180000_hot_updates.js';
import * as m20261127100000 from './migrations/2026_11_27_100000_energy_daily.js';
import * as m20261127140000 from './migrations/2026_11_27_140000_energy_daily_watermark.js';
import * as m20261128100000 from './migrations/2026_11_28_100000_tenant_vehicle_counts.js';
import * as m20261129100000 from './migrations/2026_11_29_100000_energy_monthly.js';
import * as m20261130100000 from './migrations/2026_11_30_100000_energy_10min.js';
import * as m20261201100000 from './migrations/2026_12_01_100000_telemetry_ts_index.js';
import * as m20261202100000 from './migrations/2026_12_02_100000_vehicle_state_dtcs_at.js';

/**
 * Every migration, by name. An explicit map rather than a folder scan: it works from any cwd and when bundled.
 * Names sort chronologically; add new ones at the end.
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '2026_11_26_130000_initial_schema': m20261126130000,
  '2026_11_26_150000_vehicle_state_counters': m20261126150000,
  '2026_11_26_180000_hot_updates': m20261126180000,
  '2026_11_27_100000_energy_daily': m20261127100000,
  '2026_11_27_140000_energy_daily_watermark': m20261127140000,
  '2026_11_28_100000_tenant_vehicle_counts': m20261128100000,
  '2026_11_29_100000_energy_monthly': m20261129100000,
  '2026_11_30_100000_energy_10min': m20261130100000,
  '2026_12_01_100000_telemetry_ts_index': m20261201100000,
  '2026_12_02_100000_vehicle_state_dtcs_at': m20261202100000,
});

const provider: MigrationProvider = { getMigrations: async () => ({ ...MIGRATIONS }) };

export interface MigrateResult {
  backend: StorageBackend;
  serverVersion: string;
  timescaledbVersion?: string;
  /** Names of the migrations applied by this call ([] when already up to date). */
  applied: string[];
}

type Log = (msg: string) => void;
const noop: Log = () => {};

function migrator(db: Kysely<any>): Migrator {
  // Each migration runs in a transaction, under an advisory lock, so concurrent starts migrate once.
  return new Migrator({ db, provider });
}

function settle(set: MigrationResultSet, direction: 'up' | 'down'): string[] {
  if (set.error !== undefined) {
    const failed = set.results?.find((r) => r.status === 'Error')?.migrationName;
    const cause = set.error instanceof Error ? set.error.message : String(set.error);
    throw new Error(`migrations ${direction} failed${failed ? ` in ${failed}` : ''}: ${cause}`, { cause: set.error });
  }
  return (set.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

export async function migrateToLatest(db: Kysely<any>, log: Log = noop): Promise<MigrateResult> {
  const applied = settle(await migrator(db).migrateToLatest(), 'up');
  const info = await detectBackend(db);
  log(`migrations: ${describeBackend(info)}`);
  log(applied.length > 0 ? `migrations: applied ${applied.join(', ')}` : 'migrations: already up to date');
  return {
    backend: info.backend,
    serverVersion: info.serverVersion,
    ...(info.timescaledbVersion !== undefined ? { timescaledbVersion: info.timescaledbVersion } : {}),
    applied,
  };
}

/** Reverts every migration (all specfleet tables dropped; kysely's own bookkeeping tables and the extension stay). */
export async function migrateDown(db: Kysely<any>, log: Log = noop): Promise<{ reverted: string[] }> {
  const reverted = settle(await migrator(db).migrateTo(NO_MIGRATIONS), 'down');
  log(reverted.length > 0 ? `migrations: reverted ${reverted.join(', ')}` : 'migrations: nothing to revert');
  return { reverted };
}

/** DATABASE_URL through the validated configuration (libs/config is the only reader of process.env). */
function databaseUrlFromConfig(): string {
  const url = loadConfigOrExit('migrate').DATABASE_URL;
  if (!url) {
    process.stderr.write('migrate: DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/specfleet)\n');
    process.exit(64);
  }
  return url;
}

async function main(argv: string[]): Promise<void> {
  const command = argv[0] ?? 'up';
  if (command !== 'up' && command !== 'down') throw new Error(`usage: migrate.ts [up|down] (got "${command}")`);
  // No statement timeout: creating indexes or hypertables on a large existing table may legitimately take long.
  const database = createDatabase(databaseUrlFromConfig(), { max: 1, statementTimeoutMs: 0, applicationName: 'specfleet-migrate' });
  const log: Log = (msg) => process.stdout.write(`${msg}\n`);
  try {
    if (command === 'up') await migrateToLatest(database.db, log);
    else await migrateDown(database.db, log);
  } finally {
    await database.close();
  }
}

function isMainModule(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

if (isMainModule()) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
