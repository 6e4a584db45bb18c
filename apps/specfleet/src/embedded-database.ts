// Where the embedded mode's database comes from: DATABASE_URL when given, else the embedded PostgreSQL
// in SPECFLEET_DATA_DIR (created on first start, reused afterwards).
import { join } from 'node:path';
import type { Config, Logger } from '@fleet/config';
import { ensureDatabaseExists, startEmbeddedPostgres } from '@fleet/db';

export interface OpenedDatabase {
  url: string;
  description: string;
  /** The URL an operator points psql or Grafana at (SPEC §6): the embedded server's, whose login is local; never DATABASE_URL's, which holds a password. */
  psqlUrl?: string;
  stop(): Promise<void>;
}

export async function openDatabaseUrl(config: Config, logger: Logger): Promise<OpenedDatabase> {
  if (config.DATABASE_URL) {
    // URL#host already holds the port when the URL names one; hostname is the name alone.
    const { hostname, port, pathname } = new URL(config.DATABASE_URL);
    return { url: config.DATABASE_URL, description: `${hostname}:${port || 5432}${pathname}`, stop: async () => undefined };
  }
  const dataDir = join(config.SPECFLEET_DATA_DIR, 'postgres');
  logger.info({ dataDir, port: config.EMBEDDED_PG_PORT }, 'starting the embedded PostgreSQL');
  const embedded = await startEmbeddedPostgres({
    dataDir,
    port: config.EMBEDDED_PG_PORT,
    persistent: true,
    log: (line) => logger.debug({ postgres: line }),
  });
  const url = new URL(embedded.adminUrl);
  url.pathname = '/specfleet';
  await ensureDatabaseExists(embedded.adminUrl, 'specfleet');
  return {
    url: url.toString(),
    psqlUrl: url.toString(),
    description: `embedded PostgreSQL in ${dataDir} on 127.0.0.1:${embedded.port}`,
    stop: () => embedded.stop(),
  };
}
