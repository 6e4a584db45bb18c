// Admin CLI for the MQTT service accounts of the ingestion workers (reads DATABASE_URL through @fleet/config):
//   node --import ./scripts/register.mjs apps/broker/src/cli/service-accounts.ts ensure
//       registers INGEST_MQTT_USERNAME with the secret INGEST_MQTT_PASSWORD (idempotent; what docker-compose runs on
//       every start); an account an operator disabled stays disabled
//   node --import ./scripts/register.mjs apps/broker/src/cli/service-accounts.ts create <id>
//       a new account with a generated secret, printed once; an id already taken is refused (exit 1), so a live
//       account's secret is never replaced by mistake
//   node --import ./scripts/register.mjs apps/broker/src/cli/service-accounts.ts disable <id>
// Only the SHA-256 digest of a secret is stored.
import 'reflect-metadata';
import { createHash, randomBytes } from 'node:crypto';
import { loadConfigOrExit } from '@fleet/config';
import { isValidVehicleId } from '@fleet/contracts';
import { createDatabase, ServiceAccountRepository } from '@fleet/db';

const USAGE = `usage:
  service-accounts ensure          register INGEST_MQTT_USERNAME with INGEST_MQTT_PASSWORD (a disabled one stays so)
  service-accounts create <id>     new account, secret printed once (an existing id is refused)
  service-accounts disable <id>    refuse the account's logins from now on`;

function fail(message: string): never {
  process.stderr.write(`service-accounts: ${message}\n${USAGE}\n`);
  process.exit(64); // EX_USAGE
}

const digestOf = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest();

const [command, idArgument] = process.argv.slice(2);
if (!command || !['ensure', 'create', 'disable'].includes(command)) fail('missing or unknown command');
const config = loadConfigOrExit('service-accounts');
if (!config.DATABASE_URL) fail('DATABASE_URL is required');
const database = createDatabase(config.DATABASE_URL, { max: 1, applicationName: 'specfleet-service-accounts' });
try {
  const accounts = new ServiceAccountRepository(database.db);
  if (command === 'ensure') {
    if (!config.INGEST_MQTT_PASSWORD) fail('INGEST_MQTT_PASSWORD is required for ensure');
    const state = await accounts.ensure(config.INGEST_MQTT_USERNAME, digestOf(config.INGEST_MQTT_PASSWORD));
    process.stdout.write(
      state === 'ready'
        ? `service account ${config.INGEST_MQTT_USERNAME} registered\n`
        : `service account ${config.INGEST_MQTT_USERNAME} is disabled and stays so (an operator disabled it)\n`,
    );
  } else {
    // Account ids share the vehicle id syntax (they are MQTT usernames; the broker matches them before vehicles).
    if (!idArgument || !isValidVehicleId(idArgument)) fail(`${command} needs an account id like "ingest"`);
    if (command === 'create') {
      const secret = randomBytes(32).toString('base64url');
      if (await accounts.create(idArgument, digestOf(secret))) {
        process.stdout.write(`service account ${idArgument} created; its secret (shown once):\n${secret}\n`);
      } else {
        process.stderr.write(`service-accounts: ${idArgument} already exists; nothing changed\n`);
        process.exitCode = 1;
      }
    } else {
      const done = await accounts.disable(idArgument);
      process.stdout.write(done ? `service account ${idArgument} disabled\n` : `no service account ${idArgument}\n`);
      if (!done) process.exitCode = 1;
    }
  }
} finally {
  await database.close();
}
