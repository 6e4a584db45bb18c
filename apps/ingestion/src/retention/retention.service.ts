// The retention job: periodically removes telemetry, events and dead letters older than their configured age
// (chunks on TimescaleDB, batched deletes on PostgreSQL), and energy_10min rows with telemetry (they only serve
// partial hours, which need the raw rows too). Failures are logged and retried at the next run; they never stop
// ingestion.
import { sql } from 'kysely';
import { detectBackend, RetentionRepository, type Database, type RetentionResult, type RetentionTable, type StorageBackend } from '@fleet/db';
import type { Logger } from 'pino';
import { PeriodicJob } from '../common/periodic-job.js';
import type { IngestionMetrics } from '../pipeline/ingestion.metrics.js';

type DatabaseHandle = Database['db'];

export interface RetentionOptions {
  /** Days to keep, per table. Defaults 400 / 1,100 / 30 (the @fleet/config defaults); energy_10min as telemetry. */
  days?: Partial<Record<RetentionTable, number>>;
  /** Time between runs. Default 1 h. */
  intervalMs?: number;
  /** Rows per DELETE on PostgreSQL. Default 10,000. */
  batchSize?: number;
  now?: () => number;
  logger: Logger;
  /** Counts passes by outcome and rows removed by table (the pipeline's metrics, so /metrics shows them). */
  metrics?: Pick<IngestionMetrics, 'retentionRuns' | 'retentionRemoved'>;
}

const DAY_MS = 86_400_000;
/**
 * pg advisory lock key of the retention pass ('sfret' in ASCII): every ingestion worker runs the job, and one pass at
 * a time across all of them is enough — the others' deletes would only redo the same work, and their drop_chunks race.
 */
const RETENTION_LOCK = 0x7366726574;
const DEFAULT_DAYS: Record<Exclude<RetentionTable, 'energy_10min'>, number> = { telemetry: 400, events: 1_100, dead_letters: 30 };

export class RetentionService {
  private readonly job: PeriodicJob<RetentionResult[]>;
  private backend: StorageBackend | undefined;
  private readonly days: Record<RetentionTable, number>;
  private readonly stopping = new AbortController();

  constructor(
    private readonly db: DatabaseHandle,
    private readonly options: RetentionOptions,
  ) {
    const days = { ...DEFAULT_DAYS, ...options.days };
    this.days = { ...days, energy_10min: days.energy_10min ?? days.telemetry };
    this.job = new PeriodicJob(() => this.pass(), options.intervalMs ?? 3_600_000);
  }

  start(): void {
    this.job.start();
  }

  /** Stops the schedule; a pass in progress ends after its current batch or chunk drop (the rest waits for next time). */
  stop(): Promise<void> {
    this.stopping.abort();
    return this.job.stop();
  }

  /** One pass over every table; one run at a time. */
  runOnce(): Promise<RetentionResult[]> {
    return this.job.runOnce();
  }

  /** One pass on one connection holding the advisory lock; none (an empty result) while another process holds it. */
  private async pass(): Promise<RetentionResult[]> {
    try {
      return await this.db.connection().execute(async (conn) => {
        const { rows } = await sql<{ locked: boolean }>`SELECT pg_try_advisory_lock(${RETENTION_LOCK}) AS locked`.execute(conn);
        if (!rows[0]?.locked) {
          this.options.logger.debug({ event: 'retention_skipped' }, 'another process is running retention');
          this.options.metrics?.retentionRuns.inc({ outcome: 'skipped' });
          return [];
        }
        try {
          const results = await this.passOn(conn);
          this.options.metrics?.retentionRuns.inc({ outcome: 'ok' });
          for (const r of results) if (r.removed > 0) this.options.metrics?.retentionRemoved.inc({ table: r.table, method: r.method }, r.removed);
          return results;
        } finally {
          await sql`SELECT pg_advisory_unlock(${RETENTION_LOCK})`.execute(conn).catch(() => undefined);
        }
      });
    } catch (error) {
      this.options.metrics?.retentionRuns.inc({ outcome: 'failed' });
      this.options.logger.warn({ event: 'retention_failed', err: (error as Error).message }, 'retention run failed; next run retries');
      throw error;
    }
  }

  private async passOn(db: DatabaseHandle): Promise<RetentionResult[]> {
    const now = (this.options.now ?? Date.now)();
    const repo = new RetentionRepository(db);
    const results: RetentionResult[] = [];
    this.backend ??= (await detectBackend(db)).backend;
    for (const table of Object.keys(this.days) as RetentionTable[]) {
      if (this.stopping.signal.aborted) break;
      const cutoff = new Date(now - this.days[table] * DAY_MS);
      const r = await repo.removeOlderThan(table, cutoff, this.backend, { batchSize: this.options.batchSize ?? 10_000, signal: this.stopping.signal });
      results.push(r);
      if (r.removed > 0) this.options.logger.info({ event: 'retention', ...r, cutoff: cutoff.toISOString() }, 'old rows removed');
    }
    return results;
  }
}
