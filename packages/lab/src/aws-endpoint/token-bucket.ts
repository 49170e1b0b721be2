// A token bucket: `burst` tokens at most, refilled continuously at `rps` per second. This is
// how AWS describes its API throttling (a bucket per account, Region and operation), so a
// client that spends evenly at the quota is never throttled and a burst beyond it is.
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private rps: number,
    private burst: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.lastMs = nowMs;
  }

  /** Takes one token if there is one; false means the request is throttled. */
  take(nowMs: number): boolean {
    this.refill(nowMs);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  /**
   * Changes the rate; the bucket keeps what it holds, capped at the new burst, or starts full
   * when `full` (a quota restored after a fault: the configured bucket would have refilled).
   */
  reconfigure(rps: number, burst: number, nowMs: number, full = false): void {
    this.refill(nowMs);
    this.rps = rps;
    this.burst = burst;
    this.tokens = full ? burst : Math.min(this.tokens, burst);
  }

  available(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens;
  }

  private refill(nowMs: number): void {
    const elapsedMs = Math.max(0, nowMs - this.lastMs);
    this.tokens = Math.min(this.burst, this.tokens + (elapsedMs * this.rps) / 1000);
    this.lastMs = nowMs;
  }
}
