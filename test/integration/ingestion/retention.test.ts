// The retention job on both backends: rows older than each table's retention go (whole chunks on TimescaleDB,
// batched deletes on PostgreSQL), newer rows stay.
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDatabase } from '@fleet/db';
import { IngestionMetrics } from '../../../apps/ingestion/src/pipeline/ingestion.metrics.js';
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

  it('removes telemetry, events and dead letters older than their retention, and 10-minute energy rows with telemetry; keeps the rest', { timeout: 30_000 }, async () => {
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

    await test.db
      .insertInto('energy_10min')
      .values(ages.map((d) => ({ vehicle_id: 'V-RET', bucket: new Date(Math.floor((now - d * DAY) / 600_000) * 600_000), samples: 1, traction_kwh: 1 })))
      .execute();

    const service = new RetentionService(test.db, { days: { telemetry: 400, events: 450, dead_letters: 30 }, batchSize: 7, logger: quietLogger, now: () => now });
    const results = await service.runOnce();
    expect(results.map((r) => [r.table, r.method])).toEqual([
      ['telemetry', backend.kind === 'timescaledb' ? 'drop_chunks' : 'delete'],
      ['events', backend.kind === 'timescaledb' ? 'drop_chunks' : 'delete'],
      ['dead_letters', 'delete'],
      ['energy_10min', 'delete'],
    ]);

    const oldest = async (table: 'telemetry' | 'events' | 'dead_letters' | 'energy_10min', column: string) =>
      (await sql<{ n: number; min: Date | null }>`SELECT count(*)::int AS n, min(${sql.ref(column)}) AS min FROM ${sql.table(table)}`.execute(test.db)).rows[0]!;
    const tel = await oldest('telemetry', 'ts');
    expect(tel.n).toBe(60); // 100 d and 1 d
    expect(tel.min!.getTime()).toBeGreaterThan(now - 400 * DAY);
    const ev = await oldest('events', 'ts');
    expect(ev.n).toBe(3); // 500 d gone, 401 d kept (450 d retention)
    const dl = await oldest('dead_letters', 'received_at');
    expect(dl.n).toBe(1);
    // The buckets follow telemetry's 400 days (not configured on their own here).
    const buckets = await oldest('energy_10min', 'bucket');
    expect(buckets.n).toBe(2);
    expect(buckets.min!.getTime()).toBeGreaterThan(now - 400 * DAY);
    // A second run finds nothing more to do.
    const again = await service.runOnce();
    expect(again.every((r) => r.removed === 0)).toBe(true);
  });

  // A process shutting down waits for the batch in progress, not for a whole pass (up to a thousand batches per table).
  it('stops a pass in progress between batches when the service stops', { timeout: 30_000 }, async () => {
    const now = Date.now();
    await test.db.insertInto('dead_letters').values(Array.from({ length: 40 }, () => ({ topic: 'stop', reason: 'SCHEMA', raw_size: 0, received_at: new Date(now - 90 * DAY) }))).execute();
    const service = new RetentionService(test.db, { days: { telemetry: 400, events: 450, dead_letters: 30 }, batchSize: 1, logger: quietLogger, now: () => now });
    const pass = service.runOnce();
    await service.stop();
    await pass;
    const left = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM dead_letters WHERE topic = 'stop'`.execute(test.db)).rows[0]!.n;
    expect(left).toBeGreaterThan(0);
    // The next service's pass finishes the job.
    await new RetentionService(test.db, { days: { telemetry: 400, events: 450, dead_letters: 30 }, logger: quietLogger, now: () => now }).runOnce();
    expect((await sql<{ n: number }>`SELECT count(*)::int AS n FROM dead_letters WHERE topic = 'stop'`.execute(test.db)).rows[0]!.n).toBe(0);
  });

  // Every ingestion worker runs the job: one pass at a time across processes (a pg advisory lock), not N at once.
  it('skips its pass while another process holds the retention lock, and runs once it is free', { timeout: 30_000 }, async () => {
    const now = Date.now();
    await test.db.insertInto('dead_letters').values({ topic: 't', reason: 'SCHEMA', raw_size: 0, received_at: new Date(now - 60 * DAY) }).execute();
    const metrics = new IngestionMetrics();
    const service = new RetentionService(test.db, { days: { telemetry: 400, events: 450, dead_letters: 30 }, logger: quietLogger, now: () => now, metrics });
    const old = async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM dead_letters WHERE received_at < ${new Date(now - 30 * DAY)}`.execute(test.db)).rows[0]!.n;
    await test.db.connection().execute(async (other) => {
      await sql`SELECT pg_advisory_lock(${0x7366726574})`.execute(other);
      expect(await service.runOnce()).toEqual([]);
      expect(await old()).toBe(1);
      await sql`SELECT pg_advisory_unlock(${0x7366726574})`.execute(other);
    });
    expect((await service.runOnce()).find((r) => r.table === 'dead_letters')?.removed).toBe(1);
    expect(await old()).toBe(0);
    // Counted: passes by outcome, what each table lost.
    const values = async (c: { get(): Promise<{ values: Array<{ labels: Record<string, unknown>; value: number }> }> }) => (await c.get()).values;
    expect(Object.fromEntries((await values(metrics.retentionRuns)).map((v) => [v.labels.outcome, v.value]))).toEqual({ skipped: 1, ok: 1 });
    expect(await values(metrics.retentionRemoved)).toEqual([{ labels: { table: 'dead_letters', method: 'delete' }, value: 1 }]);
    // A pass that cannot reach the database is counted as failed (and logged), not lost in the job's catch.
    const gone = createDatabase('postgres://postgres@127.0.0.1:1/none', { max: 1, statementTimeoutMs: 1_000, onPoolError: () => undefined });
    const unreachable = new RetentionService(gone.db, { logger: quietLogger, metrics });
    await expect(unreachable.runOnce()).rejects.toThrow();
    await gone.close();
    expect(Object.fromEntries((await values(metrics.retentionRuns)).map((v) => [v.labels.outcome, v.value]))).toEqual({ skipped: 1, ok: 1, failed: 1 });
  });
});
