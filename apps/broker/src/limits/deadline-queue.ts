// Timeouts for commits in flight with one timer for all of them. Every commit gets the same timeout, so arrival order
// is deadline order and a FIFO suffices; a timer per PUBLISH (setTimeout + clearTimeout + a Promise.race) was a
// measurable share of the broker's CPU at tens of thousands of messages per second.

export interface Deadline {
  /** The work finished in time: the expiry will not run. */
  cancel(): void;
}

interface Entry extends Deadline {
  readonly at: number;
  expire: (() => void) | undefined;
}

export class DeadlineQueue {
  private entries: Entry[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  /** `resolutionMs`: how late an expiry may run at most (the sweep interval). */
  constructor(
    private readonly timeoutMs: number,
    private readonly resolutionMs = Math.max(5, Math.min(250, Math.floor(timeoutMs / 10))),
    private readonly now: () => number = performance.now.bind(performance),
  ) {}

  /** Runs `expire` once, timeoutMs from now, unless cancelled first. */
  add(expire: () => void): Deadline {
    const entry: Entry = {
      at: this.now() + this.timeoutMs,
      expire,
      cancel() {
        this.expire = undefined;
      },
    };
    this.entries.push(entry);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), this.resolutionMs);
      this.timer.unref(); // never keeps the process alive by itself
    }
    return entry;
  }

  /** Deadlines not yet passed or cancelled-but-not-swept (for tests). */
  get size(): number {
    return this.entries.length - this.head;
  }

  private sweep(): void {
    const t = this.now();
    while (this.head < this.entries.length) {
      const entry = this.entries[this.head]!;
      if (entry.expire !== undefined && entry.at > t) break;
      this.head++;
      const expire = entry.expire;
      entry.expire = undefined;
      expire?.();
    }
    // Compact now and then instead of shifting the array on every expiry.
    if (this.head > 1_024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    if (this.head === this.entries.length) {
      this.entries = [];
      this.head = 0;
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
