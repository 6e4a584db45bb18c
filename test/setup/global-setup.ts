// Global setup of the integration and e2e projects: obtains the databases (backends.ts), migrates one template
// database on each, and hands their descriptions to the tests; each test file then clones its own database
// from the template (CREATE DATABASE … TEMPLATE), so files run in parallel without truncating each other.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { createDatabase } from '../../libs/db/src/database.js';
import { migrateToLatest } from '../../libs/db/src/migrate.js';
import { obtainBackends, type TestBackend } from './backends.js';
import { withAdmin } from './admin.js';

declare module 'vitest' {
  export interface ProvidedContext {
    backends: TestBackend[];
  }
}

interface Shared {
  ready: Promise<{ backends: TestBackend[]; teardown(): Promise<void> }>;
  users: number;
}

// The integration and e2e projects each run this setup; the databases are obtained once per run and shared.
const KEY = Symbol.for('specfleet.test.backends');
const holder = globalThis as unknown as Record<symbol, Shared | undefined>;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const shared = (holder[KEY] ??= { ready: prepare(), users: 0 });
  shared.users += 1;
  const { backends, teardown } = await shared.ready;
  project.provide('backends', backends);
  return async () => {
    shared.users -= 1;
    if (shared.users === 0) {
      holder[KEY] = undefined;
      await teardown();
    }
  };
}

const log = (message: string): void => {
  process.stdout.write(`[specfleet tests] ${message}\n`);
};

async function prepare(): Promise<{ backends: TestBackend[]; teardown(): Promise<void> }> {
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const obtained = await obtainBackends(log);
  const backends: TestBackend[] = [];
  try {
    for (const found of obtained.found) {
      const template = `sf_tpl_${runId}`;
      await withAdmin(found.adminUrl, (admin) => admin.query(`CREATE DATABASE "${template}"`));
      const url = new URL(found.adminUrl);
      url.pathname = `/${template}`;
      const { db, close } = createDatabase(url.toString(), { max: 1, applicationName: 'specfleet-test-setup' });
      try {
        const report = await migrateToLatest(db, (line) => log(`${found.source}: ${line}`));
        if (found.expect && found.expect !== report.backend) {
          throw new Error(`${found.source} was expected to be ${found.expect} but the migrations found ${report.backend}`);
        }
        const label =
          report.backend === 'timescaledb'
            ? `TimescaleDB ${report.timescaledbVersion} (PostgreSQL ${report.serverVersion})`
            : `PostgreSQL ${report.serverVersion}`;
        backends.push({ kind: report.backend, adminUrl: found.adminUrl, source: found.source, label, template });
        log(`database: ${label} from ${found.source}, ${report.applied.length} migrations applied to the template`);
      } finally {
        await close();
      }
    }
  } catch (error) {
    await dropRun(backends, runId).catch(() => undefined);
    await obtained.stop();
    throw error;
  }
  log(`integration tests run on: ${backends.map((b) => b.label).join(' and ')}`);
  return {
    backends,
    teardown: async () => {
      await dropRun(backends, runId);
      await obtained.stop();
    },
  };
}

/** Drops the template and every test database this run created (they all carry the run id). */
async function dropRun(backends: TestBackend[], runId: string): Promise<void> {
  for (const backend of backends) {
    await withAdmin(backend.adminUrl, async (admin) => {
      const { rows } = await admin.query<{ datname: string }>(
        `SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY datname DESC`,
        [`sf\\_%${runId}%`],
      );
      for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    });
  }
}

export type { pg };
