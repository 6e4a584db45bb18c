// The store-and-forward buffer of the firmware: a bounded FIFO of serialized messages that drops the oldest entry
// (and counts it) when full, so a long outage costs the oldest history, never memory.

export class SampleBuffer {
  private items: string[] = [];
  private head = 0;
  dropped = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('buffer capacity must be at least 1');
  }

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: string): void {
    if (this.length >= this.capacity) {
      this.head++;
      this.dropped++;
    }
    this.items.push(item);
    this.compact();
  }

  /** Puts items back at the front (un-acknowledged messages after a disconnect), oldest first; overflow drops the oldest. */
  unshift(items: readonly string[]): void {
    if (items.length === 0) return;
    const rest = this.items.slice(this.head);
    let merged = [...items, ...rest];
    if (merged.length > this.capacity) {
      this.dropped += merged.length - this.capacity;
      merged = merged.slice(merged.length - this.capacity);
    }
    this.items = merged;
    this.head = 0;
  }

  /** Removes and returns up to `maxItems` items whose total length stays within `maxBytes` (at least one item). */
  take(maxItems: number, maxBytes: number): string[] {
    const out: string[] = [];
    let bytes = 2;
    while (out.length < maxItems && this.head < this.items.length) {
      const next = this.items[this.head] as string;
      const size = Buffer.byteLength(next) + 1;
      if (out.length > 0 && bytes + size > maxBytes) break;
      out.push(next);
      bytes += size;
      this.head++;
    }
    this.compact();
    return out;
  }

  private compact(): void {
    // Drop the consumed prefix now and then instead of shifting on every take.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
