import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.js';

describe('TokenBucket', () => {
  it('spends the burst, then delays at the rate, then refuses beyond the maximum delay', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 2, () => now);
    expect(bucket.take(1_000)).toBe(0);
    expect(bucket.take(1_000)).toBe(0);
    expect(bucket.take(1_000)).toBe(100);
    expect(bucket.take(1_000)).toBe(200);
    expect(bucket.take(150)).toBe(Number.POSITIVE_INFINITY); // not reserved
    now = 300; // refills 3 tokens: the two reserved ones are paid back, one is left
    expect(bucket.take(0)).toBe(0);
    now = 10_000;
    expect(bucket.take(0)).toBe(0);
    expect(bucket.take(0)).toBe(0);
    expect(bucket.take(0)).toBe(Number.POSITIVE_INFINITY); // capped at the burst, however long it was idle
  });
});
