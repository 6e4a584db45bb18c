// The service-account CLI that docker-compose runs: `ensure` registers INGEST_MQTT_USERNAME with the digest of
// INGEST_MQTT_PASSWORD (idempotently), `disable` makes the registry refuse it.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ServiceAccountRepository } from '@fleet/db';
import { createTestDatabase, describeEachBackend, type TestDatabase } from '../../setup/database.js';
import { startProcess } from '../../support/process.js';

describeEachBackend('service-accounts CLI', (backend) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(backend);
  });
  afterAll(async () => database?.drop());

  const run = async (args: string[], env: Record<string, string> = {}) => {
    const child = startProcess(`apps/broker/src/cli/service-accounts.ts`, { DATABASE_URL: database.url, ...env }, args);
    return { code: await child.exited, output: child.output() };
  };

  it('ensure registers the configured account, twice without harm; disable refuses it', async () => {
    const env = { INGEST_MQTT_USERNAME: 'ingest', INGEST_MQTT_PASSWORD: 'compose-secret-of-the-workers' };
    expect((await run(['ensure'], env)).code).toBe(0);
    expect((await run(['ensure'], env)).code).toBe(0);
    const accounts = new ServiceAccountRepository(database.db);
    const credential = await accounts.findCredential('ingest');
    expect(credential?.secretDigest.equals(createHash('sha256').update(env.INGEST_MQTT_PASSWORD).digest())).toBe(true);

    expect((await run(['disable', 'ingest'])).code).toBe(0);
    expect(await accounts.findCredential('ingest')).toBeUndefined();
  });

  it('ensure leaves an account an operator disabled disabled; create refuses a taken id and changes nothing', async () => {
    const env = { INGEST_MQTT_USERNAME: 'ingest-2', INGEST_MQTT_PASSWORD: 'compose-secret-of-the-workers' };
    const accounts = new ServiceAccountRepository(database.db);
    expect((await run(['ensure'], env)).code).toBe(0);
    expect((await run(['disable', 'ingest-2'])).code).toBe(0);
    const again = await run(['ensure'], env);
    expect(again.code).toBe(0);
    expect(again.output).toContain('is disabled and stays so');
    expect(await accounts.findCredential('ingest-2')).toBeUndefined();

    const created = await run(['create', 'ingest-3']);
    expect(created.code).toBe(0);
    const before = await accounts.findCredential('ingest-3');
    const taken = await run(['create', 'ingest-3']);
    expect(taken.code).toBe(1);
    expect(taken.output).toContain('ingest-3 already exists; nothing changed');
    expect((await accounts.findCredential('ingest-3'))?.secretDigest.equals(before!.secretDigest)).toBe(true);
  });

  it('ensure without a password is a usage error naming the variable', async () => {
    const result = await run(['ensure']);
    expect(result.code).toBe(64);
    expect(result.output).toContain('INGEST_MQTT_PASSWORD is required');
  });
});
