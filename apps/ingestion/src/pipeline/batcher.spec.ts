import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Batcher } from './batcher.js';

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('Batcher', () => {
  it('flushes by size without waiting for the timer', async () => {
    const batches: number[][] = [];
    const b = new Batcher<number>({ maxBatchSize: 3, maxDelayMs: 10_000, flush: async (xs) => void batches.push([...xs]) });
    await Promise.all([b.add(1), b.add(2), b.add(3)]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('flushes by time', async () => {
    const batches: number[][] = [];
    const b = new Batcher<number>({ maxBatchSize: 100, maxDelayMs: 5, flush: async (xs) => void batches.push([...xs]) });
    await b.add(1);
    expect(batches).toEqual([[1]]);
  });

  it('resolves a message only after its own batch committed', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const b = new Batcher<number>({ maxBatchSize: 1, maxDelayMs: 0, maxConcurrentFlushes: 1, flush: () => gate });
    let done = false;
    const p = b.add(1).then(() => (done = true));
    await tick(5);
    expect(done).toBe(false);
    release();
    await p;
    expect(done).toBe(true);
  });

  it('keeps at most maxConcurrentFlushes batches in flight', async () => {
    let active = 0;
    let peak = 0;
    const b = new Batcher<number>({
      maxBatchSize: 2,
      maxDelayMs: 0,
      maxConcurrentFlushes: 2,
      flush: async () => {
        active++;
        peak = Math.max(peak, active);
        await tick(2);
        active--;
      },
    });
    await Promise.all(Array.from({ length: 40 }, (_, i) => b.add(i)));
    expect(peak).toBe(2);
  });

  it('applies backpressure at maxPending and never holds more', async () => {
    let fail = true;
    let maxSeen = 0;
    const b = new Batcher<number>({
      maxBatchSize: 10,
      maxDelayMs: 1,
      maxPending: 25,
      maxWaiting: Infinity,
      retryInitialMs: 1,
      retryMaxMs: 2,
      flush: async () => {
        maxSeen = Math.max(maxSeen, b.pending);
        if (fail) throw new Error('database down');
      },
    });
    const all = Array.from({ length: 100 }, (_, i) => b.add(i));
    await tick(20);
    expect(b.pending).toBeLessThanOrEqual(25);
    expect(b.waiting).toBeGreaterThan(0);
    fail = false;
    await Promise.all(all);
    expect(maxSeen).toBeLessThanOrEqual(25);
    expect(b.pending).toBe(0);
  });

  it('refuses beyond maxPending + maxWaiting instead of buffering without bound', async () => {
    let fail = true;
    const b = new Batcher<number>({
      maxBatchSize: 5,
      maxDelayMs: 0,
      maxPending: 10,
      maxWaiting: 10,
      retryInitialMs: 1,
      retryMaxMs: 2,
      flush: async () => {
        if (fail) throw new Error('database down');
      },
    });
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) => Promise.race([b.add(i), tick(20).then(() => 'pending')])),
    );
    const refused = results.filter((r) => r.status === 'rejected').length;
    expect(refused).toBe(10);
    expect(b.pending + b.waiting).toBe(20);
    fail = false;
    await b.whenIdle();
  });

  it('retries a failed flush without resolving or rejecting, then resumes by itself', async () => {
    let attempts = 0;
    const seen: number[] = [];
    const b = new Batcher<number>({
      maxBatchSize: 5,
      maxDelayMs: 1,
      retryInitialMs: 1,
      retryMaxMs: 4,
      flush: async (xs) => {
        attempts++;
        if (attempts <= 4) throw new Error('ECONNREFUSED');
        seen.push(...xs);
      },
    });
    let settled = false;
    const p = b.add(7).finally(() => (settled = true));
    await tick(3);
    expect(settled).toBe(false);
    await p;
    expect(seen).toEqual([7]);
    expect(attempts).toBe(5);
  });

  it('close() writes what was admitted', async () => {
    const seen: number[] = [];
    const b = new Batcher<number>({ maxBatchSize: 100, maxDelayMs: 10_000, flush: async (xs) => void seen.push(...xs) });
    const p = b.add(1, 3);
    await b.close();
    await p;
    expect(seen).toEqual([1]);
    await expect(b.add(2)).rejects.toThrow(/closed/);
  });

  it('every item is flushed exactly once, in batches within the size limit (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 80 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 7, max: 40 }),
        fc.integer({ min: 1, max: 3 }),
        async (weights, maxBatchSize, maxPending, conc) => {
          const flushed: number[] = [];
          let failEvery = 3;
          const b = new Batcher<number>({
            maxBatchSize,
            maxPending,
            maxWaiting: Infinity,
            maxDelayMs: 0,
            maxConcurrentFlushes: conc,
            retryInitialMs: 0,
            flush: async (xs) => {
              if (--failEvery === 0) {
                failEvery = 3;
                throw new Error('transient');
              }
              const w = xs.reduce((a, i) => a + weights[i]!, 0);
              if (xs.length > 1) expect(w).toBeLessThanOrEqual(maxBatchSize);
              expect(b.pending).toBeLessThanOrEqual(Math.max(maxPending, 7));
              flushed.push(...xs);
            },
          });
          await Promise.all(weights.map((w, i) => b.add(i, w)));
          expect([...flushed].sort((x, y) => x - y)).toEqual(weights.map((_, i) => i));
        },
      ),
      { numRuns: 60 },
    );
  });
});
