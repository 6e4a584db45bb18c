// What an integration test uses: the backends of this run, and a database of its own cloned from the
// migrated template of a backend.
import { randomBytes } from 'node:crypto';
import { describe, inject } from 'vitest';
import type { Kysely } from 'kysely';
import { createDatabase, type DB } from '../../libs/db/src/index.js';
import { withAdmin } from './admin.js';
import type { TestBackend } from './backends.js';

export type { TestBackend } from './backends.js';

export interface TestDatabase {
  readonly backend: TestBackend;
  readonly name: string;
  readonly url: string;
  readonly db: Kysely<DB>;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

export function testBackends(): TestBackend[] {
  const backends = inject('backends');
  if (!backends || backends.length === 0) throw new Error('no test databases: is test/setup/global-setup.ts configured for this project?');
  return backends;
}

/** A fresh database migrated to the latest schema, cloned from the run's template on `backend`. */
export async function createTestDatabase(backend: TestBackend, options: { poolMax?: number } = {}): Promise<TestDatabase> {
  const template = backend.template;
  if (!template) throw new Error(`backend ${backend.source} has no template`);
  const name = `${template.replace('sf_tpl_', 'sf_t_')}_${randomBytes(4).toString('hex')}`;
  await withAdmin(backend.adminUrl, async (admin) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
        return;
      } catch (error) {
        // 55006: another clone is reading the template at this instant; a moment later it is free again.
        if ((error as { code?: string }).code !== '55006' || attempt >= 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
  });
  const url = new URL(backend.adminUrl);
  url.pathname = `/${name}`;
  const { db, close } = createDatabase(url.toString(), { max: options.poolMax ?? 5, applicationName: 'specfleet-test' });
  return {
    backend,
    name,
    url: url.toString(),
    db,
    drop: async () => {
      await close();
      await withAdmin(backend.adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

/** Runs `body` once per backend of this run, in a describe block that names the database. */
export function describeEachBackend(title: string, body: (backend: TestBackend) => void): void {
  for (const backend of testBackends()) {
    describe(`${title} [${backend.label ?? backend.kind}]`, () => body(backend));
  }
}
