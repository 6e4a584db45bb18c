// `npm start`: the embedded mode of SPEC §2 — one process with the database (embedded PostgreSQL unless
// DATABASE_URL is set), migrations and the query API; the broker, in-process ingestion and the simulated
// fleet join it as they are built.
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createLogger, loadConfigOrExit } from '@fleet/config';
import { createDatabase, migrateToLatest } from '@fleet/db';
import { createQueryApp } from '../../query/src/query.app.js';
import { openDatabaseUrl } from './embedded-database.js';

const config = loadConfigOrExit('specfleet');
const logger = createLogger('specfleet', config.LOG_LEVEL);

const stack: Array<() => Promise<void>> = [];
let stopping = false;
async function shutdown(signal: string, code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping');
  for (const stop of stack.reverse()) {
    await stop().catch((error: unknown) => logger.error({ err: error }, 'error while stopping'));
  }
  logger.info('stopped');
  process.exit(code);
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));

try {
  const { url, stop: stopDatabase, description } = await openDatabaseUrl(config, logger);
  stack.push(stopDatabase);

  const migration = createDatabase(url, { max: 1, statementTimeoutMs: 0, applicationName: 'specfleet-migrate' });
  const report = await migrateToLatest(migration.db, (line) => logger.info(line)).finally(() => migration.close());

  const database = createDatabase(url, {
    max: config.DB_POOL_MAX,
    statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
    applicationName: 'specfleet',
    onPoolError: (error) => logger.warn({ err: error }, 'database connection lost; the pool reconnects'),
  });
  stack.push(() => database.close());

  const app = await createQueryApp({ db: database.db, logger });
  await app.listen({ port: config.HTTP_PORT, host: '0.0.0.0' });
  stack.push(() => app.close());
  const httpPort = (app.getHttpServer().address() as AddressInfo).port; // HTTP_PORT=0 picks a free port

  const backend = report.backend === 'timescaledb' ? `TimescaleDB ${report.timescaledbVersion}` : `PostgreSQL ${report.serverVersion}`;
  process.stdout.write(
    [
      '',
      'specfleet is running (embedded mode)',
      `  database   ${description} — ${backend}, ${report.applied.length} new migrations`,
      `  API        http://${config.PUBLIC_HOST}:${httpPort}   (GET /health/live)`,
      `  data       ${join(config.SPECFLEET_DATA_DIR)}`,
      '  Ctrl-C stops everything; the next start keeps the data.',
      '',
    ].join('\n'),
  );
} catch (error) {
  logger.fatal({ err: error }, 'start-up failed');
  await shutdown('start-up failure', 1);
}
