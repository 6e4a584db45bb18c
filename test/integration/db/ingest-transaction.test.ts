// The ingestion transaction sends the statements nobody waits for with the next one that is waited for, in one round
// trip (ingest-transaction.repository.ts): a batch is two round trips. These checks hold it to what one statement at
// a time gave: order, results, parameters, the duplicate fallback, and all-or-nothing on an error in a queued
// statement.
import type pg from 'pg';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { EnergyHourlyRepository, IngestTransactionRepository, poolOf } from '../../../libs/db/src/index.js';
import { createTestDatabase, describeEachBackend, type TestDatabase } from '../../setup/database.js';
import { telemetryRow as row } from './helpers.js';

/** A sample as ingestion hands it over (COPY straight into telemetry takes received_at as given). */
const telemetryRow = (vehicleId: string, seq: number) => row(vehicleId, seq, { received_at: new Date() });

describeEachBackend('ingest transaction round trips', (backend) => {
  let database: TestDatabase;
  let repo: IngestTransactionRepository;
  /** Messages sent to the server on the pool's connections (each query() call is one round trip). */
  let roundTrips = 0;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    repo = new IngestTransactionRepository(database.db);
    await sql`CREATE TABLE queued_steps (n int PRIMARY KEY, note text)`.execute(database.db);
    const wrapped = new WeakSet<pg.PoolClient>();
    poolOf(database.db)!.on('acquire', (client) => {
      if (wrapped.has(client)) return;
      wrapped.add(client);
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        roundTrips++;
        return query(...args);
      };
    });
  });
  afterAll(async () => {
    await database?.drop();
  });
  beforeEach(async () => {
    await sql`TRUNCATE queued_steps`.execute(database.db);
    await sql`DELETE FROM telemetry`.execute(database.db);
    await sql`DELETE FROM energy_hourly`.execute(database.db);
    roundTrips = 0;
  });

  const telemetryCount = async (): Promise<number> =>
    Number((await sql<{ n: string }>`SELECT count(*) AS n FROM telemetry`.execute(database.db)).rows[0]!.n);
  const notes = async (): Promise<string[]> =>
    (await sql<{ note: string }>`SELECT note FROM queued_steps ORDER BY n`.execute(database.db)).rows.map((r) => r.note);

  it('sends BEGIN, the telemetry COPY and queued statements with the next query, and the rest with COMMIT: two round trips', async () => {
    const rows = [telemetryRow('SZ-SAN-0001', 1), telemetryRow('SZ-SAN-0001', 2)];
    const done = await repo.run(rows, async (tx) => {
      tx.queue.add('INSERT INTO queued_steps VALUES ($1, $2) -- a statement may end in a comment', [1, 'first']);
      // Sees the queued INSERT and the COPY: they ran before it, in the same transaction.
      const seen = await sql<{ steps: number; samples: number }>`
        SELECT (SELECT count(*) FROM queued_steps) AS steps, (SELECT count(*) FROM telemetry) AS samples`.execute(tx.db);
      tx.queue.add('INSERT INTO queued_steps VALUES ($1, $2)', [2, 'second']);
      return seen.rows[0];
    });
    expect(done.result).toEqual({ steps: 1, samples: 2 });
    expect(done.telemetry).toEqual({ inserted: 2, duplicates: 0 });
    expect(roundTrips).toBe(2);
    expect(await notes()).toEqual(['first', 'second']);
  });

  it('writes parameters into a merged round trip as literals that arrive unchanged', async () => {
    const text = `it's a \\ "quoted" $1 — 苏州`;
    const at = new Date('2026-11-26T10:00:00.123Z');
    const done = await repo.run([], async (tx) => {
      tx.queue.add('INSERT INTO queued_steps VALUES ($1, $2)', [1, text]);
      const { rows } = await sql<{ t: string; a: string[]; ts: Date; n: number | null; j: unknown }>`
        SELECT ${text}::text AS t, ${['x', 'y"z', null]}::text[] AS a, ${at}::timestamptz AS ts, ${null}::int AS n, ${JSON.stringify({ k: "v'" })}::jsonb AS j`.execute(tx.db);
      return rows[0];
    });
    expect(done.result).toEqual({ t: text, a: ['x', 'y"z', null], ts: at, n: null, j: { k: "v'" } });
    expect(await notes()).toEqual([text]);
  });

  it('on a sample already stored, rolls the direct COPY back and runs the whole transaction again on the staging path', async () => {
    await repo.run([telemetryRow('SZ-SAN-0001', 1)], async () => undefined);
    let runs = 0;
    const done = await repo.run([telemetryRow('SZ-SAN-0001', 1), telemetryRow('SZ-SAN-0001', 2)], async (tx) => {
      runs++;
      tx.queue.add('INSERT INTO queued_steps VALUES ($1, $2)', [1, 'once']);
      await sql`SELECT 1`.execute(tx.db);
    });
    expect(runs).toBe(2);
    expect(done.telemetry).toEqual({ inserted: 1, duplicates: 1 });
    expect(await telemetryCount()).toBe(2);
    expect(await notes()).toEqual(['once']);
  });

  it('an error in a queued statement fails its round trip and rolls back everything, the COPY included', async () => {
    await expect(
      repo.run([telemetryRow('SZ-SAN-0001', 7)], async (tx) => {
        tx.queue.add('INSERT INTO queued_steps VALUES ($1, $2)', [1, 'kept?']);
        tx.queue.add('INSERT INTO queued_steps VALUES ($1, $2)', [1, 'duplicate key']);
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await telemetryCount()).toBe(0);
    expect(await notes()).toEqual([]);
    // The connection is back in the pool and works.
    await repo.run([telemetryRow('SZ-SAN-0001', 8)], async (tx) => tx.queue.add('INSERT INTO queued_steps VALUES (1, $1)', ['after']));
    expect(await telemetryCount()).toBe(1);
    expect(await notes()).toEqual(['after']);
  });

  it('an error before a COPY in the same round trip: the COPY data written behind the query is dropped and the connection stays usable', async () => {
    const hour = new Date('2026-11-26T08:00:00Z');
    const increment = { vehicleId: 'SZ-SAN-0001', bucket: hour, samples: 1, distance_km: 1, traction_kwh: 1, body_kwh: 0, regen_kwh: 0, charged_kwh: 0, h2_kg: 0, fuel_l: 0, engine_hours: 0, body_hours: 0 };
    const backend = async (tx: { db: typeof database.db }): Promise<number> =>
      (await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(tx.db)).rows[0]!.pid;
    let failedOn = 0;
    await expect(
      repo.run([], async (tx) => {
        failedOn = await backend(tx);
        tx.queue.add('SELECT 1 / $1::int', [0]);
        new EnergyHourlyRepository(tx.db).addIncrements([increment], tx.queue);
      }),
    ).rejects.toMatchObject({ code: '22012' });
    const usedAfter = new Set<number>();
    for (let i = 0; i < 3; i++) {
      await repo.run([telemetryRow('SZ-SAN-0001', 20 + i)], async (tx) => {
        usedAfter.add(await backend(tx));
        new EnergyHourlyRepository(tx.db).addIncrements([increment], tx.queue);
      });
    }
    // The pool hands back the connection released last: the one whose round trip failed.
    expect(usedAfter).toEqual(new Set([failedOn]));
    expect(await telemetryCount()).toBe(3);
    const { rows } = await sql<{ samples: number }>`SELECT samples FROM energy_hourly WHERE vehicle_id = 'SZ-SAN-0001' AND hour = ${hour}`.execute(database.db);
    expect(rows).toEqual([{ samples: 3 }]);
  });

  it('a body that throws before anything was sent leaves nothing behind', async () => {
    await expect(
      repo.run([telemetryRow('SZ-SAN-0001', 9)], async (tx) => {
        tx.queue.add('INSERT INTO queued_steps VALUES (1, $1)', ['never']);
        throw new Error('decided not to');
      }),
    ).rejects.toThrow('decided not to');
    expect(roundTrips).toBe(0);
    expect(await telemetryCount()).toBe(0);
    expect(await notes()).toEqual([]);
  });
});
