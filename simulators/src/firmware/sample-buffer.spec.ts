import { describe, expect, it } from 'vitest';
import { SampleBuffer } from './sample-buffer.js';

describe('SampleBuffer', () => {
  it('drops the oldest entries when full and counts them', () => {
    const b = new SampleBuffer(3);
    for (const x of ['1', '2', '3', '4', '5']) b.push(x);
    expect(b.length).toBe(3);
    expect(b.dropped).toBe(2);
    expect(b.take(10, Infinity)).toEqual(['3', '4', '5']);
  });

  it('takes batches bounded by count and bytes, at least one item', () => {
    const b = new SampleBuffer(100);
    for (let i = 0; i < 10; i++) b.push('x'.repeat(10));
    expect(b.take(3, Infinity)).toHaveLength(3);
    expect(b.take(100, 25)).toHaveLength(2);
    expect(b.take(100, 1)).toHaveLength(1);
    expect(b.length).toBe(4);
  });

  it('puts unacknowledged items back in front, in order, dropping the oldest on overflow', () => {
    const b = new SampleBuffer(4);
    b.push('c');
    b.push('d');
    b.unshift(['a', 'b']);
    expect(b.take(10, Infinity)).toEqual(['a', 'b', 'c', 'd']);
    b.push('e');
    b.unshift(['a', 'b', 'c', 'd']);
    expect(b.dropped).toBe(1);
    expect(b.take(10, Infinity)).toEqual(['b', 'c', 'd', 'e']);
  });
});
