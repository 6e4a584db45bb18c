// SPEC §4.5 on a real database behind a proxy that can take it away: while it is unreachable nothing is acknowledged
// (no ingest() promise resolves), memory stays bounded (admission stops at maxPending + maxWaiting and refuses the
// rest), pool errors do not kill the process, and everything admitted is stored exactly once when it returns.
// A message that the database itself refuses (a NUL character in jsonb) is dead-lettered alone and does not block.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDatabase, type Database } from '@fleet/db';
import { IngestOverloadedError } from '../../../apps/ingestion/src/pipeline/batcher.js';
import type { IngestionPipeline } from '../../../apps/ingestion/src/pipeline/ingestion-pipeline.js';
import { createTestDatabase, describeEachBackend, type TestDatabase } from '../../setup/database.js';
import { DatabaseOutageProxy, eventually, message, provisionVehicles, sample, testPipeline, within } from './helpers.js';

describeEachBackend('ingestion during a database outage', (backend) => {
  let test: TestDatabase;
  let proxy: DatabaseOutageProxy;
  let database: Database;
  let pipeline: IngestionPipeline;
  const poolErrors: Error[] = [];

  beforeAll(async () => {
    test = await createTestDatabase(backend);
    await provisionVehicles(test.db, ['V-OUT', 'V-POISON']);
    const target = new URL(test.url);
    proxy = new DatabaseOutageProxy(target.hostname, Number(target.port || 5432));
    await proxy.start();
    database = createDatabase(proxy.urlFor(test.url), { max: 3, statementTimeoutMs: 5_000, onPoolError: (e) => poolErrors.push(e) });
    pipeline = testPipeline(database.db, { maxBatchSize: 20, maxPending: 40, maxWaiting: 40, retryInitialMs: 20, retryMaxMs: 200 });
  });
  afterAll(async () => {
    await within(pipeline?.close() ?? Promise.resolve(), 10_000, 'close').catch(() => undefined);
    await database?.close();
    await proxy?.stop();
    await test?.drop();
  });

  const count = async (vehicleId: string): Promise<number> =>
    Number((await test.db.selectFrom('telemetry').select((eb) => eb.fn.countAll<number>().as('n')).where('vehicle_id', '=', vehicleId).executeTakeFirstOrThrow()).n);

  it('acknowledges nothing while down, stays bounded, and catches up by itself', { timeout: 30_000 }, async () => {
    const t0 = Date.now() - 3_600_000;
    const send = (seq: number) => pipeline.ingest(message('V-OUT', 'telemetry', sample({ tsMs: t0 + seq * 1000, seq, traction: seq })));
    await within(Promise.all(Array.from({ length: 10 }, (_, i) => send(i))), 5_000, 'before the outage');

    await proxy.cut();
    const settled: number[] = [];
    const during = Array.from({ length: 80 }, (_, i) => {
      const p = send(10 + i);
      p.then(() => settled.push(i), () => undefined);
      return p;
    });
    const outcomes = Promise.allSettled(during);
    await new Promise((r) => setTimeout(r, 1_500));
    // Nothing acknowledged while the database is away …
    expect(settled).toEqual([]);
    // … and the pipeline holds at most maxPending + maxWaiting samples: the rest were refused, not buffered.
    expect(pipeline.pending).toBeLessThanOrEqual(40);
    await proxy.restore();
    const results = await within(outcomes, 15_000, 'catch-up');
    const accepted = results.filter((r) => r.status === 'fulfilled').length;
    const refused = results.filter((r) => r.status === 'rejected');
    expect(accepted).toBeGreaterThanOrEqual(40);
    expect(accepted).toBeLessThanOrEqual(80);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(IngestOverloadedError);
    expect(await count('V-OUT')).toBe(10 + accepted);

    // The refused ones are re-sent (as a publisher would) and stored once; nothing twice.
    await within(Promise.all(Array.from({ length: 80 }, (_, i) => send(10 + i))), 10_000, 're-send');
    expect(await count('V-OUT')).toBe(90);
    const state = await test.db.selectFrom('vehicle_state').select(['last_seq']).where('vehicle_id', '=', 'V-OUT').executeTakeFirstOrThrow();
    expect(state.last_seq).toBe(89);
  });

  it('dead-letters a message the database refuses and stores the rest of its batch', { timeout: 20_000 }, async () => {
    const t0 = Date.now() - 1_800_000;
    const good = (seq: number) => pipeline.ingest(message('V-POISON', 'telemetry', sample({ tsMs: t0 + seq * 1000, seq })));
    // Valid JSON and valid per the contract, but PostgreSQL's jsonb cannot hold U+0000 (SQLSTATE 22P05).
    const poison = pipeline.ingest(message('V-POISON', 'telemetry', sample({ tsMs: t0, seq: 999, extra: { body: { type: 'sweeper', signals: { note: 'a\u0000b' } } } })));
    await within(Promise.all([good(1), good(2), poison, good(3), good(4)]), 10_000, 'batch with a poison message');
    expect(await count('V-POISON')).toBe(4);
    const dl = await test.db.selectFrom('dead_letters').selectAll().where('vehicle_id', '=', 'V-POISON').execute();
    expect(dl.map((d) => d.reason)).toEqual(['STORAGE_REJECTED']);
    expect(dl[0]!.raw!.toString()).toContain('\\u0000');
    await eventually(() => poolErrors.length >= 0, 10, 'pool errors are handled, not thrown');
  });
});
