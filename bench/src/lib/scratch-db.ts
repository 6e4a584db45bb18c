// A database of the benchmark's own on the DATABASE_URL server: created, migrated, dropped at the end, so a run never
// touches anyone's data and two runs never see each other's rows.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type BackendInfo, createDatabase, type Database, detectBackend, describeBackend, migrateToLatest } from '@fleet/db';

export interface ScratchDatabase {
  readonly name: string;
  readonly url: string;
  readonly backend: BackendInfo;
  readonly backendDescription: string;
  /** Opens a pool on the scratch database (closed by drop() if still open). */
  open(options?: { max?: number; applicationName?: string; statementTimeoutMs?: number }): Database;
  /** Closes every pool opened here and drops the database. */
  drop(): Promise<void>;
}

async function withAdmin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'specfleet-bench-admin' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createScratchDatabase(adminUrl: string, scenario: string): Promise<ScratchDatabase> {
  const name = `sf_bench_${scenario.replace(/[^a-z0-9]/g, '_')}_${randomBytes(3).toString('hex')}`;
  await withAdmin(adminUrl, (admin) => admin.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pools: Database[] = [];
  const open = (options: { max?: number; applicationName?: string; statementTimeoutMs?: number } = {}): Database => {
    const database = createDatabase(url.toString(), {
      max: options.max ?? 10,
      applicationName: options.applicationName ?? 'specfleet-bench',
      statementTimeoutMs: options.statementTimeoutMs ?? 0,
      onPoolError: () => undefined,
    });
    pools.push(database);
    return database;
  };
  let backend: BackendInfo;
  try {
    const migration = open({ max: 1, applicationName: 'specfleet-bench-migrate' });
    await migrateToLatest(migration.db);
    backend = await detectBackend(migration.db);
    await migration.close();
  } catch (error) {
    await withAdmin(adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).catch(() => undefined);
    throw error;
  }
  let dropped: Promise<void> | undefined;
  return {
    name,
    url: url.toString(),
    backend,
    backendDescription: describeBackend(backend),
    open,
    drop() {
      dropped ??= (async () => {
        await Promise.allSettled(pools.map((p) => p.close()));
        await withAdmin(adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
      })();
      return dropped;
    },
  };
}
