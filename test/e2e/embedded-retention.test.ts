// Embedded mode (`npm start`, startStack) runs the retention job as distributed mode's ingestion worker does: rows
// older than RETENTION_*_DAYS go once the stack starts (the job's first run), newer rows stay.
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeEachBackend, type TestDatabase } from '../setup/database.js';
import { type Stack, startTestStack } from './support/stack.js';

const DAY = 86_400_000;

describeEachBackend('embedded mode: retention', (backend) => {
  let database: TestDatabase;
  let stack: Stack | undefined;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
  });
  afterAll(async () => {
    await stack?.stop();
    await database?.drop();
  });

  it('drops telemetry, events and dead letters past their retention once started', { timeout: 60_000 }, async () => {
    const now = Date.now();
    const ages = [500, 20, 1]; // days: past every retention below, past the dead letters' only, within all
    await database.db
      .insertInto('telemetry')
      .values(ages.map((d, i) => ({ vehicle_id: 'V-RET', ts: new Date(now - d * DAY), seq: i })))
      .execute();
    await database.db
      .insertInto('events')
      .values(ages.map((d, i) => ({ vehicle_id: 'V-RET', ts: new Date(now - d * DAY), seq: i, kind: 'incident', code: 'X' })))
      .execute();
    await database.db
      .insertInto('dead_letters')
      .values(ages.map((d) => ({ topic: 't', reason: 'SCHEMA', raw_size: 0, received_at: new Date(now - d * DAY) })))
      .execute();

    stack = await startTestStack(database, { RETENTION_TELEMETRY_DAYS: '100', RETENTION_EVENTS_DAYS: '100', RETENTION_DEAD_LETTERS_DAYS: '10' });
    const counts = async () =>
      (
        await sql<{ telemetry: number; events: number; dead: number }>`SELECT (SELECT count(*)::int FROM telemetry) AS telemetry,
          (SELECT count(*)::int FROM events) AS events, (SELECT count(*)::int FROM dead_letters) AS dead`.execute(database.db)
      ).rows[0]!;
    const deadline = Date.now() + 30_000;
    let seen = await counts();
    while (Date.now() < deadline && (seen.telemetry > 2 || seen.events > 2 || seen.dead > 1)) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      seen = await counts();
    }
    expect(seen).toEqual({ telemetry: 2, events: 2, dead: 1 });
  });
});
