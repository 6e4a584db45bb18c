// Group commit: accumulates messages and writes them in batches, resolving each message's promise only once the
// batch that holds it has committed.
//
// Decision — a failed flush is retried (capped exponential backoff, forever) and the promises of its messages
// stay pending; they are never rejected. Why:
// - embedded mode: the broker awaits `ingest()` before it sends the PUBACK. A pending promise means no PUBACK,
//   so the publisher keeps the message in its in-flight window; when the window is full it stops publishing.
//   A rejection would leave the broker with nothing good to do: MQTT 3.1.1 clients re-send an unacknowledged
//   QoS 1 message only after a reconnect, so it would have to drop the connection of every publisher, turning a
//   database blip into a reconnect storm that re-delivers the same messages into the same outage.
// - distributed mode: MQTT.js sends the PUBACK only after `handleMessage`'s callback; pending = not acked, and the
//   broker keeps the messages in the persistent session until the worker acknowledges them.
// - either way memory stays bounded: `maxPending` counts queued *and* in-flight samples, and `add()` waits for
//   room once it is reached, which stops the caller from reading more packets (TCP backpressure to the clients).
// - a crash while waiting loses nothing: nothing was acknowledged, so broker/clients re-send after restart, and
//   the unique key absorbs what had in fact been committed.
// - it resumes by itself: the retry loop keeps trying the same batch, and admits new work as soon as it commits.
// Errors that retrying cannot fix (a row the database refuses) must not wedge the loop: the `flush` function is
// expected to isolate and dead-letter such rows itself, and throw only for transient failures.

export interface BatcherOptions<T> {
  /** Writes one batch; throws on a transient failure (it will be called again with the same items). */
  readonly flush: (items: readonly T[]) => Promise<void>;
  /** Flush as soon as this many samples are queued. Default 2,000. */
  readonly maxBatchSize?: number;
  /** Flush at most this long after the first message of a batch arrived. Default 20 ms. */
  readonly maxDelayMs?: number;
  /** Samples queued or being written before `add()` waits. Default 50,000. */
  readonly maxPending?: number;
  /**
   * Samples that may wait for room (beyond `maxPending`) before `add()` refuses with IngestOverloadedError instead
   * of queueing: bounds memory when publishers keep re-sending during an outage. Default = maxPending.
   */
  readonly maxWaiting?: number;
  /** Batches written at the same time. Default 2 (one committing while the next is sent). */
  readonly maxConcurrentFlushes?: number;
  /** First retry delay after a failed flush. Default 50 ms. */
  readonly retryInitialMs?: number;
  /** Cap of the retry delay. Default 5,000 ms. */
  readonly retryMaxMs?: number;
  /** Told about every failed attempt (logging, metrics). */
  readonly onFlushError?: (error: unknown, attempt: number, nextDelayMs: number) => void;
  /** Told about every committed batch. */
  readonly onFlushed?: (items: readonly T[], weight: number, durationMs: number) => void;
  /** When an item arrived, epoch ms (for oldestPendingAt). Default: when it was queued. */
  readonly arrivedAt?: (item: T) => number;
}

interface Entry<T> {
  readonly item: T;
  readonly weight: number;
  readonly at: number;
  readonly resolve: () => void;
}

interface Waiter {
  readonly weight: number;
  readonly admit: () => void;
}

export class BatcherClosedError extends Error {
  constructor() {
    super('batcher is closed');
    this.name = 'BatcherClosedError';
  }
}

/** `add()` refused: pending and waiting are both full (the database is down or too slow). Nothing was queued. */
export class IngestOverloadedError extends Error {
  constructor(readonly pending: number, readonly waiting: number) {
    super(`ingestion overloaded: ${pending} samples pending, ${waiting} waiting`);
    this.name = 'IngestOverloadedError';
  }
}

export class Batcher<T> {
  readonly maxBatchSize: number;
  readonly maxDelayMs: number;
  readonly maxPending: number;
  readonly maxConcurrentFlushes: number;
  readonly maxWaiting: number;
  private waitingWeight = 0;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;

  private queue: Entry<T>[] = [];
  private queuedWeight = 0;
  /** Queued + in flight. */
  private pendingWeight = 0;
  private readonly waiters: Waiter[] = [];
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerExpired = false;
  private closed = false;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly retrySleeps = new Set<() => void>();
  /** Arrival time of the oldest item of each batch being written (retried ones included). */
  private readonly inFlightOldest = new Set<{ at: number }>();

  constructor(private readonly options: BatcherOptions<T>) {
    this.maxBatchSize = options.maxBatchSize ?? 2_000;
    this.maxDelayMs = options.maxDelayMs ?? 20;
    this.maxPending = options.maxPending ?? 50_000;
    this.maxConcurrentFlushes = options.maxConcurrentFlushes ?? 2;
    this.maxWaiting = options.maxWaiting ?? this.maxPending;
    this.retryInitialMs = options.retryInitialMs ?? 50;
    this.retryMaxMs = options.retryMaxMs ?? 5_000;
    if (this.maxBatchSize < 1 || this.maxPending < 1 || this.maxConcurrentFlushes < 1 || this.maxDelayMs < 0) {
      throw new RangeError('batcher: sizes must be ≥ 1 and the delay ≥ 0');
    }
  }

  /** Samples queued or being written. */
  get pending(): number {
    return this.pendingWeight;
  }

  /**
   * Arrival time (epoch ms) of the oldest item not committed yet, queued or being written; undefined when none is.
   * While the database is away it stays put, so now − it grows: the lag an operator alerts on.
   */
  get oldestPendingAt(): number | undefined {
    let oldest = Infinity;
    for (const e of this.queue) oldest = Math.min(oldest, e.at); // read at a scrape, not per message
    for (const b of this.inFlightOldest) oldest = Math.min(oldest, b.at);
    return oldest === Infinity ? undefined : oldest;
  }

  /** Callers waiting for room. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Samples of the callers waiting for room (at most maxWaiting, or one caller). */
  get waitingSamples(): number {
    return this.waitingWeight;
  }

  /**
   * Queues `item` (worth `weight` samples) and resolves once it has committed. Waits for room first when
   * `maxPending` is reached; a single item heavier than `maxPending` is admitted alone.
   */
  async add(item: T, weight = 1): Promise<void> {
    await this.admit(weight);
    return this.enqueue(item, weight);
  }

  /**
   * Two-phase form of `add()` for sources that must stop reading until there is room (MQTT.js): `admitted`
   * resolves when the item is queued, `committed` when it is durable.
   */
  submit(item: T, weight = 1): { admitted: Promise<void>; committed: Promise<void> } {
    const admitted = this.admit(weight);
    const committed = admitted.then(() => this.enqueue(item, weight));
    return { admitted, committed };
  }

  /** Stops admitting, writes everything already admitted, resolves when nothing is left. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.admit();
    this.timerExpired = true;
    this.pump();
    await this.whenIdle();
  }

  /** Resolves when nothing is queued or being written. */
  whenIdle(): Promise<void> {
    if (this.pendingWeight === 0 && this.waiters.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Cuts a retry backoff short (e.g. when the database is known to be back). */
  retryNow(): void {
    for (const wake of [...this.retrySleeps]) wake();
  }

  private admit(weight: number): Promise<void> {
    if (this.closed) return Promise.reject(new BatcherClosedError());
    if (this.waiters.length === 0 && this.fits(weight)) {
      this.pendingWeight += weight;
      return Promise.resolve();
    }
    if (this.waitingWeight > 0 && this.waitingWeight + weight > this.maxWaiting) {
      return Promise.reject(new IngestOverloadedError(this.pendingWeight, this.waitingWeight));
    }
    this.waitingWeight += weight;
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({
        weight,
        admit: () => {
          this.waitingWeight -= weight;
          if (this.closed) return reject(new BatcherClosedError());
          this.pendingWeight += weight;
          resolve();
        },
      });
    });
  }

  private fits(weight: number): boolean {
    return this.pendingWeight === 0 || this.pendingWeight + weight <= this.maxPending;
  }

  private enqueue(item: T, weight: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.queue.push({ item, weight, at: this.options.arrivedAt?.(item) ?? Date.now(), resolve });
      this.queuedWeight += weight;
      if (this.queue.length === 1 && this.timer === undefined) {
        this.timerExpired = this.closed || this.maxDelayMs === 0;
        if (!this.timerExpired) {
          this.timer = setTimeout(() => {
            this.timer = undefined;
            this.timerExpired = true;
            this.pump();
          }, this.maxDelayMs);
        }
      }
      this.pump();
    });
  }

  private pump(): void {
    while (
      this.inFlight < this.maxConcurrentFlushes &&
      this.queue.length > 0 &&
      (this.queuedWeight >= this.maxBatchSize || this.timerExpired)
    ) {
      const batch = this.take();
      this.inFlight++;
      void this.run(batch);
    }
  }

  private take(): Entry<T>[] {
    let weight = 0;
    let n = 0;
    while (n < this.queue.length) {
      const w = this.queue[n]!.weight;
      if (n > 0 && weight + w > this.maxBatchSize) break;
      weight += w;
      n++;
    }
    const batch = this.queue.slice(0, n);
    this.queue = this.queue.slice(n);
    this.queuedWeight -= weight;
    if (this.queue.length === 0) {
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
      this.timerExpired = this.closed;
    }
    return batch;
  }

  private async run(batch: Entry<T>[]): Promise<void> {
    const items = batch.map((e) => e.item);
    const weight = batch.reduce((a, e) => a + e.weight, 0);
    const oldest = { at: batch.reduce((a, e) => Math.min(a, e.at), Infinity) };
    this.inFlightOldest.add(oldest);
    let attempt = 0;
    let delay = this.retryInitialMs;
    for (;;) {
      const started = performance.now();
      try {
        await this.options.flush(items);
        this.options.onFlushed?.(items, weight, performance.now() - started);
        break;
      } catch (error) {
        attempt++;
        this.options.onFlushError?.(error, attempt, delay);
        await this.sleep(delay);
        delay = Math.min(this.retryMaxMs, delay * 2);
      }
    }
    this.inFlightOldest.delete(oldest);
    for (const e of batch) e.resolve();
    this.inFlight--;
    this.pendingWeight -= weight;
    this.admitWaiters();
    this.pump();
    if (this.pendingWeight === 0 && this.waiters.length === 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private admitWaiters(): void {
    while (this.waiters.length > 0 && this.fits(this.waiters[0]!.weight)) {
      this.waiters.shift()!.admit();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.retrySleeps.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.retrySleeps.add(wake);
    });
  }
}
