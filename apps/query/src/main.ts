// The query service on its own (distributed mode): DATABASE_URL required, serves HTTP_PORT.
import 'reflect-metadata';
import { createLogger, loadConfigOrExit } from '@fleet/config';
import { createDatabase } from '@fleet/db';
import { tcpProbe } from './health/tcp-probe.js';
import { createQueryApp } from './query.app.js';
import { brokerAddress, queryOptionsFromConfig } from './query.config.js';

const config = loadConfigOrExit('query');
const logger = createLogger('query', config.LOG_LEVEL);
if (!config.DATABASE_URL) {
  process.stderr.write('query: DATABASE_URL is required in distributed mode (npm start runs the embedded database)\n');
  process.exit(78);
}
const database = createDatabase(config.DATABASE_URL, {
  max: config.DB_POOL_MAX,
  statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
  applicationName: 'specfleet-query',
  onPoolError: (error) => logger.warn({ err: error }, 'database connection lost'),
});
const broker = brokerAddress(config);
const app = await createQueryApp({
  db: database.db,
  logger,
  options: queryOptionsFromConfig(config),
  readiness: { broker: tcpProbe(broker.host, broker.port) },
});
await app.listen({ port: config.HTTP_PORT, host: '0.0.0.0' });
logger.info({ port: config.HTTP_PORT }, 'query API listening');
const stop = async (): Promise<void> => {
  await app.close();
  await database.close();
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
