// Prometheus metrics of the ingestion pipeline (SPEC §4: every dead letter counted; issue 4: received, stored,
// duplicates, dead-lettered by reason, batch size, commit latency, lag).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class IngestionMetrics {
  readonly received: Counter<'channel'>;
  readonly stored: Counter<'kind'>;
  readonly duplicates: Counter<'kind'>;
  readonly deadLettered: Counter<'reason'>;
  readonly batchSamples: Histogram;
  readonly commitSeconds: Histogram;
  readonly lagSeconds: Gauge;
  readonly receiveToCommitSeconds: Histogram;
  readonly pending: Gauge;
  readonly flushFailures: Counter<'kind'>;
  readonly overloaded: Counter;
  readonly energyRecomputedHours: Counter;
  readonly retentionRuns: Counter<'outcome'>;
  readonly retentionRemoved: Counter<'table' | 'method'>;

  private source: { pending(): number; oldestPendingAt(): number | undefined } | undefined;

  /** The pipeline whose pending samples and oldest uncommitted message the gauges read when scraped. */
  watch(source: { pending(): number; oldestPendingAt(): number | undefined }): void {
    this.source = source;
  }

  constructor(readonly registry: Registry = new Registry()) {
    const registers = [registry];
    this.received = new Counter({ name: 'specfleet_ingest_messages_received_total', help: 'MQTT messages handed to ingestion', labelNames: ['channel'], registers });
    this.stored = new Counter({ name: 'specfleet_ingest_rows_stored_total', help: 'Rows newly stored', labelNames: ['kind'], registers });
    this.duplicates = new Counter({ name: 'specfleet_ingest_duplicates_total', help: 'Samples/events already stored (redelivery, re-send)', labelNames: ['kind'], registers });
    this.deadLettered = new Counter({ name: 'specfleet_ingest_dead_letters_total', help: 'Rejected messages/elements written to dead_letters', labelNames: ['reason'], registers });
    this.batchSamples = new Histogram({
      name: 'specfleet_ingest_batch_size',
      help: 'Samples + events + dead letters per committed batch',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2000, 5000],
      registers,
    });
    this.commitSeconds = new Histogram({
      name: 'specfleet_ingest_commit_seconds',
      help: 'Duration of a batch transaction, from BEGIN to COMMIT',
      buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.receiveToCommitSeconds = new Histogram({
      name: 'specfleet_ingest_receive_to_commit_seconds',
      help: 'From receipt of the oldest message of a batch to its commit',
      buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
      registers,
    });
    // Both read the pipeline when scraped (watch()): set only on commits, they froze at their last healthy value while
    // the database was away, when an operator needs them most.
    const metrics = this;
    this.lagSeconds = new Gauge({
      name: 'specfleet_ingest_lag_seconds',
      help: 'Age of the oldest message not committed yet while any waits, else the receive-to-commit time of the oldest message of the last batch',
      registers,
      collect() {
        const oldest = metrics.source?.oldestPendingAt();
        if (oldest !== undefined) this.set(Math.max(0, Date.now() - oldest) / 1000);
      },
    });
    this.pending = new Gauge({
      name: 'specfleet_ingest_pending_samples',
      help: 'Samples queued or being written',
      registers,
      collect() {
        if (metrics.source) this.set(metrics.source.pending());
      },
    });
    this.flushFailures = new Counter({ name: 'specfleet_ingest_flush_failures_total', help: 'Failed batch writes (retried)', labelNames: ['kind'], registers });
    this.overloaded = new Counter({ name: 'specfleet_ingest_overloaded_total', help: 'Messages refused because pending and waiting were full', registers });
    // The retention job: a pass that fails (or never gets the lock) must be visible without reading the logs.
    this.retentionRuns = new Counter({ name: 'specfleet_retention_runs_total', help: 'Retention passes: ok, failed, or skipped (another process held the lock)', labelNames: ['outcome'], registers });
    this.retentionRemoved = new Counter({ name: 'specfleet_retention_removed_total', help: 'What retention removed: rows (method=delete) or whole chunks (method=drop_chunks, TimescaleDB)', labelNames: ['table', 'method'], registers });
    this.energyRecomputedHours = new Counter({ name: 'specfleet_ingest_energy_recomputed_hours_total', help: 'energy_hourly rows recomputed from raw rows (late samples)', registers });
  }
}
