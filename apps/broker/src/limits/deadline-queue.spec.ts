import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineQueue } from './deadline-queue.js';

describe('DeadlineQueue', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const queue = (timeoutMs: number, resolutionMs: number): DeadlineQueue => new DeadlineQueue(timeoutMs, resolutionMs, () => Date.now());

  it('runs an expiry once, no earlier than the timeout and at most one resolution late', () => {
    const q = queue(300, 10);
    const expired = vi.fn();
    q.add(expired);
    vi.advanceTimersByTime(299);
    expect(expired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(10);
    expect(expired).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1_000);
    expect(expired).toHaveBeenCalledTimes(1);
    expect(q.size).toBe(0);
  });

  it('never runs a cancelled expiry, and expires the others in arrival order', () => {
    const q = queue(100, 5);
    const order: string[] = [];
    q.add(() => order.push('a'));
    const b = q.add(() => order.push('b'));
    vi.advanceTimersByTime(50);
    q.add(() => order.push('c'));
    b.cancel();
    vi.advanceTimersByTime(60);
    expect(order).toEqual(['a']);
    vi.advanceTimersByTime(50);
    expect(order).toEqual(['a', 'c']);
  });

  it('drops cancelled entries at the head without waiting for their deadline, and stops its timer when empty', () => {
    const q = queue(1_000, 10);
    const deadlines = Array.from({ length: 5_000 }, () => q.add(() => expect.unreachable()));
    for (const d of deadlines) d.cancel();
    vi.advanceTimersByTime(10);
    expect(q.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
