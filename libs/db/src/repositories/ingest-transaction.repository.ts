// One transaction on one dedicated connection for an ingestion batch, with both a Kysely handle (for the other
// repositories) and COPY for telemetry on the same connection. Kysely cannot hand out the pg client of a transaction,
// and COPY needs it. Measured on full telemetry rows (apps/ingestion/scripts/measure-insert.ts), COPY into a staging
// table + INSERT … SELECT ON CONFLICT DO NOTHING is ~1.1–1.5× faster than INSERT … SELECT unnest, and COPY straight
// into telemetry another ~1.4× — but COPY cannot skip duplicates. So the batch's telemetry is the transaction's FIRST
// statement: COPY straight in, and if a row is already stored (a redelivery), roll the transaction back (it holds
// nothing else yet) and start it again on the staging path. No savepoint: no subtransaction for every row of every
// batch to carry. After a fallback the next batches go to the staging path until one of them finds no duplicate (a
// redelivery storm after a restart comes in runs).
//
// Round trips. Under load the process that runs the broker and this pipeline is busy, and every round trip to the
// database waits for a turn of its event loop full of MQTT reads: the latency benchmark measured ~150 ms per commit
// for seven round trips that took ~30 ms on an idle process. So the statements whose answer nobody waits for (BEGIN,
// the COPYs, the INSERTs of missing rows, the energy increments, COMMIT …) are queued and sent with the next
// statement that needs its answer, as ONE simple-protocol message (statements separated by `;`, parameters written
// in as literals with pg's escapeLiteral), with the COPY data written right behind it. PostgreSQL runs them in order,
// reads each COPY's data when it gets there, and stops at the first error (the rest of the message is skipped; COPY
// data it did not get to is dropped by protocol rule). A batch with no events or late samples is two round trips:
// BEGIN … lock and move vehicle_state, then the energy increments … COMMIT.
import pg from 'pg';
import { Inject, Injectable } from '@nestjs/common';
import { Kysely, PostgresDialect } from 'kysely';
import { DATABASE, type DB, poolOf } from '../database.js';
import type { NewTelemetryRow } from '../tables/telemetry.table.js';
import type { StagingTable, StatementQueue } from './bulk.js';
import { type BulkInsertResult, TELEMETRY_COPY_DIRECT, telemetryCopyBinary, telemetryStageSql } from './telemetry.repository.js';

export interface IngestTransaction {
  /**
   * Kysely bound to the transaction's connection: construct repositories with it. Each of its queries is sent with
   * the statements queued before it, in the same round trip.
   */
  readonly db: Kysely<DB>;
  /** Statements whose answers nobody waits for: they go with the next query of `db`, or with the COMMIT. */
  readonly queue: StatementQueue;
}

export interface IngestTransactionResult<T> {
  /** What the body returned. */
  readonly result: T;
  /** What the COPY of the batch's telemetry did (duplicates skipped and counted). */
  readonly telemetry: BulkInsertResult;
}

const TELEMETRY_STAGE = telemetryStageSql('specfleet_ingest_telemetry_stage');
const UNIQUE_VIOLATION = '23505';

/** pg's helpers that format a parameter as node-pg would send it (not in @types/pg). */
const pgUtils = (pg as unknown as { utils: { prepareValue(value: unknown): string | Buffer | null } }).utils;

/**
 * `sql` with $1, $2, … replaced by `params` as SQL literals: the text node-pg would send for each parameter
 * (arrays as array literals, dates with their offset, objects as JSON), quoted by pg's escapeLiteral. A `$` inside a
 * quoted string is left alone; dollar quoting is refused (none of the ingestion statements uses it).
 */
export function inlineParameters(sql: string, params: readonly unknown[] = []): string {
  if (params.length === 0) return sql;
  if (/\$[A-Za-z_]*\$/.test(sql)) throw new Error('inlineParameters: dollar-quoted SQL is not supported');
  return sql.replace(/'(?:[^']|'')*'|\$(\d+)/g, (match, n: string | undefined) => {
    if (n === undefined) return match; // a quoted string
    const i = Number(n);
    if (i < 1 || i > params.length) throw new Error(`inlineParameters: $${n} has no parameter (${params.length} given)`);
    return literal(params[i - 1]);
  });
}

function literal(value: unknown): string {
  const prepared = pgUtils.prepareValue(value);
  if (prepared === null) return 'NULL';
  if (Buffer.isBuffer(prepared)) return `'\\x${prepared.toString('hex')}'::bytea`;
  return pg.escapeLiteral(prepared);
}

/** One statement of a round trip: its SQL (no parameters), the COPY data it reads, and who wants its result. */
interface Step {
  readonly sql: string;
  readonly copy?: Buffer;
  readonly done?: (result: pg.QueryResult) => void;
}

const COPY_DONE = Buffer.from([0x63, 0, 0, 0, 4]);

/** The parts of node-pg's Query (lib/query.js) used here; @types/pg does not describe them. */
interface PgQuery {
  readonly text: string;
  callback: ((err: Error | null, result: pg.QueryResult | pg.QueryResult[]) => void) | undefined;
  handleCommandComplete(msg: unknown, connection: unknown): void;
}
interface PgConnection {
  query(text: string): void;
  stream: NodeJS.WritableStream & { cork?(): void; uncork?(): void };
}
const PgQueryClass = pg.Query as unknown as new (config: { text: string }) => PgQuery;

/**
 * The statements of one round trip as a simple-protocol Query message, followed at once by the CopyData and CopyDone
 * of each COPY among them (in order), without waiting for PostgreSQL's CopyInResponse: the server reads them when it
 * reaches that COPY, and drops them (protocol rule) if an earlier statement failed. Counts the statements that
 * completed, so a failure can be pinned on its statement.
 */
class StepsQuery extends PgQueryClass {
  completed = 0;

  constructor(
    private readonly steps: readonly Step[],
    callback: (err: Error | null, result: pg.QueryResult | pg.QueryResult[]) => void,
  ) {
    // The `;` on a line of its own: a statement that ends in a -- comment cannot swallow it.
    super({ text: steps.map((s) => s.sql).join('\n;\n') });
    this.callback = callback;
  }

  /** Called by pg.Client when the connection is free (a Submittable). */
  submit(connection: PgConnection): Error | null {
    const stream = connection.stream;
    stream.cork?.();
    try {
      connection.query(this.text);
      for (const step of this.steps) {
        if (!step.copy) continue;
        const header = Buffer.alloc(5);
        header[0] = 0x64; // CopyData
        header.writeInt32BE(step.copy.length + 4, 1);
        stream.write(header);
        stream.write(step.copy);
        stream.write(COPY_DONE);
      }
    } finally {
      stream.uncork?.();
    }
    return null;
  }

  /** The data went out with the query (submit). */
  handleCopyInResponse(): void {}

  override handleCommandComplete(msg: unknown, connection: unknown): void {
    this.completed++;
    super.handleCommandComplete(msg, connection);
  }
}

/** The queue of one transaction attempt, and the round trips that carry it. */
class RoundTrips {
  private steps: Step[] = [];
  /** A round trip has gone out: the transaction is open on the server (or failed there). */
  sent = false;
  /** The statement a failed round trip stopped at. */
  failedAt: Step | undefined;

  constructor(private readonly client: pg.PoolClient) {}

  add(step: Step): void {
    this.steps.push(step);
  }

  /** Everything queued plus `last` in one round trip; resolves with `last`'s result. */
  send(last: Step): Promise<pg.QueryResult> {
    const steps = [...this.steps, last];
    this.steps = [];
    this.sent = true;
    return new Promise((resolve, reject) => {
      const query = new StepsQuery(steps, (err, res) => {
        if (err) {
          this.failedAt = steps[query.completed];
          reject(err);
          return;
        }
        const results = Array.isArray(res) ? res : [res];
        if (results.length !== steps.length) {
          reject(new Error(`ingest transaction: ${steps.length} statements sent, ${results.length} results received`));
          return;
        }
        steps.forEach((s, i) => s.done?.(results[i]!));
        resolve(results[results.length - 1]!);
      });
      this.client.query(query as unknown as pg.QueryConfig);
    });
  }
}

/** Per pooled connection (pg.Pool reuses client objects): its Kysely, the staging tables it has created, the current transaction's round trips. */
interface Bound {
  db: Kysely<DB>;
  staged: Set<string>;
  trips: RoundTrips | undefined;
}
const bound = new WeakMap<pg.PoolClient, Bound>();

function bind(client: pg.PoolClient): Bound {
  let b = bound.get(client);
  if (!b) {
    // A one-connection "pool" for Kysely: it always hands out this client and never releases it (we do). Its queries
    // carry the transaction's queued statements.
    const query = (sql: string, params?: readonly unknown[]): Promise<pg.QueryResult> => {
      const trips = b!.trips;
      if (!trips) return client.query(sql, params as unknown[]);
      return trips.send({ sql: inlineParameters(sql, params) });
    };
    const single = { query, release: () => undefined };
    const fakePool = { connect: async () => single, end: async () => undefined, options: {} };
    b = { db: new Kysely<DB>({ dialect: new PostgresDialect({ pool: fakePool as unknown as pg.Pool }) }), staged: new Set(), trips: undefined };
    bound.set(client, b);
  }
  return b;
}

@Injectable()
export class IngestTransactionRepository {
  /** True while recent batches held redeliveries: COPY straight in would fail and be done twice. */
  private preferStaging = false;

  constructor(@Inject(DATABASE) private readonly db: Kysely<DB>) {}

  /**
   * BEGIN, COPY of `telemetry` (idempotent on the unique key), body, COMMIT on one pool connection; ROLLBACK (or
   * discard the connection if that fails) on error. If the direct COPY meets a row already stored, the transaction
   * is rolled back and run again, body included, on the staging path: the body must be safe to run again.
   */
  async run<T>(telemetry: readonly NewTelemetryRow[], body: (tx: IngestTransaction) => Promise<T>): Promise<IngestTransactionResult<T>> {
    const pool = poolOf(this.db);
    if (!pool) throw new Error('IngestTransactionRepository needs a Kysely instance created by createDatabase()');
    const client = await pool.connect();
    let broken: Error | undefined;
    const b = bind(client);
    const payload = telemetry.length > 0 ? telemetryCopyBinary(telemetry) : undefined;
    let staging = this.preferStaging;
    try {
      for (;;) {
        const trips = new RoundTrips(client);
        b.trips = trips;
        // Tables staged into by this transaction: ON COMMIT DELETE ROWS empties them only at commit, so a second COPY
        // into one of them in the same transaction empties it first (the statement after it reads the table whole).
        const stagedNow = new Set<string>();
        const queue: StatementQueue = {
          add: (sql, params) => trips.add({ sql: inlineParameters(sql, params) }),
          stage: (table: StagingTable, data: Buffer) => {
            if (!b.staged.has(table.name)) {
              trips.add({ sql: table.create });
              // Created inside this transaction, so a rollback drops it again: forgotten in the catch below.
              b.staged.add(table.name);
            } else if (stagedNow.has(table.name)) {
              trips.add({ sql: `TRUNCATE ${table.name}` });
            }
            stagedNow.add(table.name);
            trips.add({ sql: table.copy, copy: data });
          },
        };
        let stored: BulkInsertResult = { inserted: 0, duplicates: 0 };
        let direct: Step | undefined;
        trips.add({ sql: 'BEGIN' });
        if (payload) {
          if (!staging) {
            direct = { sql: TELEMETRY_COPY_DIRECT, copy: payload, done: () => (stored = { inserted: telemetry.length, duplicates: 0 }) };
            trips.add(direct);
          } else {
            queue.stage(TELEMETRY_STAGE, payload);
            trips.add({
              sql: TELEMETRY_STAGE.insert,
              done: (r) => {
                const inserted = r.rowCount ?? 0;
                stored = { inserted, duplicates: telemetry.length - inserted };
                this.preferStaging = stored.duplicates > 0;
              },
            });
          }
        }
        try {
          const result = await body({ db: b.db, queue });
          await trips.send({ sql: 'COMMIT' });
          return { result, telemetry: stored };
        } catch (err) {
          b.staged.clear(); // a CREATE may have been rolled back with the transaction
          if (trips.sent) {
            try {
              await client.query('ROLLBACK');
            } catch (rollbackError) {
              broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
              throw err;
            }
          }
          if (direct !== undefined && trips.failedAt === direct && (err as { code?: unknown }).code === UNIQUE_VIOLATION) {
            staging = true;
            continue;
          }
          throw err;
        }
      }
    } finally {
      b.trips = undefined;
      client.release(broken);
    }
  }
}
