// Per-client publish rate limit. Over the rate a publish is delayed rather than dropped (aedes reads no further
// packets from that client meanwhile, so delay is backpressure); a debt beyond maxDelayMs means a flood.
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /**
   * Takes one token. Returns 0 when one was available, the milliseconds to wait for it otherwise (the token is
   * reserved), or Infinity when the wait would exceed maxDelayMs (nothing reserved).
   */
  take(maxDelayMs: number): number {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    const waitMs = ((1 - this.tokens) / this.ratePerSecond) * 1000;
    if (waitMs > maxDelayMs) return Number.POSITIVE_INFINITY;
    this.tokens -= 1;
    return Math.ceil(waitMs);
  }
}
