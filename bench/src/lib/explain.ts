// EXPLAIN ANALYZE of exactly the SQL a repository runs: the repository is called once on a Kysely that records its
// compiled queries, then each recorded query is explained with its parameters. Used to say where a read's time goes.
import { type CompiledQuery, Kysely, PostgresDialect } from 'kysely';
import type pg from 'pg';
import type { DB } from '@fleet/db';

export interface ExplainedQuery {
  sql: string;
  executionMs: number;
  planningMs: number;
  /** The plan's first lines (the top nodes), trimmed. */
  top: string[];
  plan: string[];
}

const TRANSACTION_CONTROL = /^\s*(start transaction|begin|commit|rollback|savepoint|release)\b/i;

export async function explainRepositoryCall(pool: pg.Pool, call: (db: Kysely<DB>) => Promise<unknown>): Promise<ExplainedQuery[]> {
  const captured: CompiledQuery[] = [];
  const db = new Kysely<DB>({
    dialect: new PostgresDialect({ pool: pool as never }),
    log: (event) => {
      if (event.level === 'query') captured.push(event.query);
    },
  });
  await call(db);
  const out: ExplainedQuery[] = [];
  // Transaction control (a repository may run its statements in a transaction of its own) has no plan.
  for (const q of captured.filter((c) => !TRANSACTION_CONTROL.test(c.sql))) {
    const { rows } = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${q.sql}`, q.parameters as unknown[]);
    const plan = rows.map((r) => r['QUERY PLAN']);
    const num = (re: RegExp): number => Number(re.exec(plan.join('\n'))?.[1] ?? Number.NaN);
    out.push({
      sql: q.sql.replace(/\s+/g, ' ').slice(0, 120),
      executionMs: num(/Execution Time: ([\d.]+) ms/),
      planningMs: num(/Planning Time: ([\d.]+) ms/),
      top: plan.slice(0, 6).map((l) => l.trim()),
      plan,
    });
  }
  return out;
}
