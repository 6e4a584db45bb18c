// createDatabase(): per-connection statement timeout, float8 read exactly, int8 as number, and a pool that survives killed connections.
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDatabase, parseInt8 } from '../../../libs/db/src/index.js';
import { withAdmin } from '../../setup/admin.js';
import { createTestDatabase, describeEachBackend, type TestDatabase } from '../../setup/database.js';

it('parseInt8 refuses to lose precision', () => {
  expect(parseInt8('4294967295')).toBe(4_294_967_295);
  expect(parseInt8('-9007199254740991')).toBe(-9_007_199_254_740_991);
  expect(() => parseInt8('9007199254740993')).toThrow(RangeError);
});

describeEachBackend('createDatabase', (backend) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase(backend);
  });
  afterAll(async () => {
    await test?.drop();
  });

  it('sets statement_timeout, application_name and jit = off on every connection', async () => {
    const errors: Error[] = [];
    const database = createDatabase(test.url, { max: 2, statementTimeoutMs: 250, applicationName: 'sf-db-test', onPoolError: (e) => errors.push(e) });
    try {
      const { rows } = await sql<{ t: string; a: string; jit: string }>`
        SELECT current_setting('statement_timeout') AS t, current_setting('application_name') AS a, current_setting('jit') AS jit`.execute(database.db);
      expect(rows[0]).toEqual({ t: '250ms', a: 'sf-db-test', jit: 'off' });
      await expect(sql`SELECT pg_sleep(2)`.execute(database.db)).rejects.toMatchObject({ code: '57014' });
    } finally {
      await database.close();
      await database.close(); // idempotent
    }
  });

  it('reads float8 exactly even where the database is set to round it (extra_float_digits = 0)', async () => {
    const rounded = await createTestDatabase(backend);
    await withAdmin(backend.adminUrl, (admin) => admin.query(`ALTER DATABASE "${rounded.name}" SET extra_float_digits = 0`));
    const database = createDatabase(rounded.url, { max: 1 });
    try {
      // The setting holds for a new session: this one has it, and would read 0.3 and 0.1 + 0.2 as the same number.
      const { rows: raw } = await withAdmin(rounded.url, (admin) => admin.query<{ v: string }>('SELECT (0.1::float8 + 0.2::float8)::text AS v'));
      expect(raw[0]?.v).toBe('0.3');
      const { rows } = await sql<{ v: number; j: { v: number }; s: string }>`
        SELECT 0.1::float8 + 0.2::float8 AS v, json_build_object('v', 0.1::float8 + 0.2::float8) AS j, current_setting('extra_float_digits') AS s`.execute(database.db);
      expect(rows[0]).toEqual({ v: 0.1 + 0.2, j: { v: 0.1 + 0.2 }, s: '1' });
    } finally {
      await database.close();
      await rounded.drop();
    }
  });

  it('returns int8 as number, int8[] as number[], timestamptz as Date', async () => {
    const { rows } = await sql<{ a: number; b: number[]; c: Date; n: number }>`
      SELECT 4294967295::bigint AS a, ARRAY[1, 2]::bigint[] AS b, now() AS c, count(*) AS n FROM generate_series(1, 3)`.execute(test.db);
    expect(rows[0]).toMatchObject({ a: 4_294_967_295, b: [1, 2], n: 3 });
    expect(rows[0]?.c).toBeInstanceOf(Date);
    await expect(sql`SELECT 9007199254740993::bigint AS x`.execute(test.db)).rejects.toThrow(RangeError);
    // the connection is still fine after a parse error
    await expect(sql`SELECT 1 AS x`.execute(test.db)).resolves.toBeTruthy();
  });

  it('survives an idle connection being terminated by the server', async () => {
    const errors: Error[] = [];
    const database = createDatabase(test.url, { max: 2, applicationName: 'sf-db-kill', onPoolError: (e) => errors.push(e) });
    try {
      await sql`SELECT 1`.execute(database.db); // leaves one idle connection in the pool
      await withAdmin(backend.adminUrl, (admin) =>
        admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'sf-db-kill'`),
      );
      await expect.poll(() => errors.length, { timeout: 5_000 }).toBeGreaterThan(0);
      const { rows } = await sql<{ x: number }>`SELECT 1 AS x`.execute(database.db);
      expect(rows[0]?.x).toBe(1);
    } finally {
      await database.close();
    }
  });
});
