// The query service on its own (distributed mode): DATABASE_URL required, serves HTTP_PORT.
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { createLogger, describeListenError, loadConfigOrExit } from '@fleet/config';
import { createDatabase } from '@fleet/db';
import { ensureDemoTenant } from './auth/api-key-admin.js';
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
if (config.FLEET_DEMO_API_KEY || config.FLEET_ADMIN_API_KEY) {
  // The demo tenant's keys, when given (docker-compose sets them): created once, left alone afterwards.
  await ensureDemoTenant(database.db, { operatorKey: config.FLEET_DEMO_API_KEY, adminKey: config.FLEET_ADMIN_API_KEY });
}
const broker = brokerAddress(config);
const app = await createQueryApp({
  db: database.db,
  logger,
  options: queryOptionsFromConfig(config),
  readiness: { broker: tcpProbe(broker.host, broker.port) },
});
try {
  await app.listen({ port: config.HTTP_PORT, host: '0.0.0.0' });
} catch (error) {
  const listen = describeListenError(error, config);
  if (!listen) throw error;
  process.stderr.write(`query: ${listen}\n`);
  await app.close().catch(() => undefined);
  await database.close().catch(() => undefined);
  process.exit(78);
}
// HTTP_PORT=0 picks a free port: log the one bound.
logger.info({ port: (app.getHttpServer().address() as AddressInfo).port }, 'query API listening');
const stop = async (): Promise<void> => {
  await app.close();
  await database.close();
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
