// Admin CLI for the query API's keys (reads DATABASE_URL through @fleet/config):
//   node --import ./scripts/register.mjs apps/query/src/cli/api-keys.ts create <tenant> <operator|admin> [name]
//   node --import ./scripts/register.mjs apps/query/src/cli/api-keys.ts revoke <tenant> <key-id>
//   node --import ./scripts/register.mjs apps/query/src/cli/api-keys.ts list <tenant>
// `create` prints the key once (only its SHA-256 digest is stored); `list` shows ids, prefixes and revocation.
import 'reflect-metadata';
import { loadConfigOrExit } from '@fleet/config';
import { ApiKeyRepository, API_KEY_ROLES, type ApiKeyRole, createDatabase, TenantRepository } from '@fleet/db';
import { createApiKey } from '../auth/api-key-admin.js';

const USAGE = `usage:
  api-keys create <tenant> <operator|admin> [name]   create a key (printed once)
  api-keys revoke <tenant> <key-id>                  revoke a key
  api-keys list <tenant>                             list the tenant's keys`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(64); // EX_USAGE
}

async function main(argv: string[]): Promise<void> {
  const [command, tenantId, ...rest] = argv;
  if (!command || !tenantId) fail('missing command or tenant');
  const config = loadConfigOrExit('api-keys');
  if (!config.DATABASE_URL) fail('DATABASE_URL is required');
  const database = createDatabase(config.DATABASE_URL, { max: 1, applicationName: 'specfleet-api-keys' });
  try {
    const keys = new ApiKeyRepository(database.db);
    if (!(await new TenantRepository(database.db).find(tenantId))) fail(`no tenant ${tenantId}`);
    switch (command) {
      case 'create': {
        const role = rest[0] as ApiKeyRole | undefined;
        if (!role || !(API_KEY_ROLES as readonly string[]).includes(role)) fail('role must be operator or admin');
        const { key, record } = await createApiKey(keys, tenantId, role, rest.slice(1).join(' '));
        process.stdout.write(`created ${record.role} key ${record.id} for tenant ${tenantId}\n${key}\n(store it now: it is not shown again)\n`);
        return;
      }
      case 'revoke': {
        const id = rest[0];
        if (!id || !/^[0-9a-f-]{36}$/i.test(id)) fail('revoke needs the key id (a uuid, see list)');
        const done = await keys.revoke(id, tenantId);
        process.stdout.write(done ? `revoked ${id}\n` : `no active key ${id} in tenant ${tenantId}\n`);
        if (!done) process.exitCode = 1;
        return;
      }
      case 'list': {
        for (const k of await keys.listByTenant(tenantId)) {
          process.stdout.write(`${k.id}  ${k.role.padEnd(8)}  ${k.prefix}…  ${k.createdAt.toISOString()}  ${k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active'}  ${k.name}\n`);
        }
        return;
      }
      default:
        fail(`unknown command ${command}`);
    }
  } finally {
    await database.close();
  }
}

await main(process.argv.slice(2));
