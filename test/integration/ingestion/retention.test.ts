// The retention job on both backends: rows older than each table's retention go (whole chunks on TimescaleDB,
// batched deletes on PostgreSQL), newer rows stay.
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RetentionService } from '../../../apps/ingestion/src/retention/retention.service.js';
import { createTestDatabase, describeEachBackend, type TestDatabase } from '../../setup/database.js';
import { quietLogger } from './helpers.js';

const DAY = 86_400_000;

describeEachBackend('retention', (backend) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase(backend);
  });
  afterAll(async () => {
    await test?.drop();
  });

  it('removes telemetry, events and dead letters older than their retention, keeps the rest', { timeout: 30_000 }, async () => {
    const now = Date.now();
    const ages = [500, 401, 100, 1]; // days
    await test.db
      .insertInto('telemetry')
      .values(ages.flatMap((d) => Array.from({ length: 30 }, (_, i) => ({ vehicle_id: 'V-RET', ts: new Date(now - d * DAY + i * 1000), seq: i }))))
      .execute();
    await test.db
      .insertInto('events')
      .values(ages.map((d, i) => ({ vehicle_id: 'V-RET', ts: new Date(now - d * DAY), seq: i, kind: 'incident', code: 'X' })))
      .execute();
    await test.db
      .insertInto('dead_letters')
      .values(ages.map((d) => ({ topic: 't', reason: 'SCHEMA', raw_size: 0, received_at: new Date(now - d * DAY) })))
      .execute();

    const service = new RetentionService(test.db, { days: { telemetry: 400, events: 450, dead_letters: 30 }, batchSize: 7, logger: quietLogger, now: () => now });
    const results = await service.runOnce();
    expect(results.map((r) => r.method)).toEqual(backend.kind === 'timescaledb' ? ['drop_chunks', 'drop_chunks', 'delete'] : ['delete', 'delete', 'delete']);

    const oldest = async (table: 'telemetry' | 'events' | 'dead_letters', column: string) =>
      (await sql<{ n: number; min: Date | null }>`SELECT count(*)::int AS n, min(${sql.ref(column)}) AS min FROM ${sql.table(table)}`.execute(test.db)).rows[0]!;
    const tel = await oldest('telemetry', 'ts');
    expect(tel.n).toBe(60); // 100 d and 1 d
    expect(tel.min!.getTime()).toBeGreaterThan(now - 400 * DAY);
    const ev = await oldest('events', 'ts');
    expect(ev.n).toBe(3); // 500 d gone, 401 d kept (450 d retention)
    const dl = await oldest('dead_letters', 'received_at');
    expect(dl.n).toBe(1);
    // A second run finds nothing more to do.
    const again = await service.runOnce();
    expect(again.every((r) => r.removed === 0)).toBe(true);
  });
});
