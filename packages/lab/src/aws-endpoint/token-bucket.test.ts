import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.js';

describe('TokenBucket', () => {
  it('admits a full burst at once, then refuses until it refills', () => {
    const bucket = new TokenBucket(10, 5, 0);
    const admitted = Array.from({ length: 7 }, () => bucket.take(0)).filter(Boolean).length;
    expect(admitted).toBe(5);
    expect(bucket.take(0)).toBe(false);
    // 10 per second: one token every 100 ms.
    expect(bucket.take(99)).toBe(false);
    expect(bucket.take(100)).toBe(true);
  });

  it('a client spending evenly at the rate is never refused', () => {
    const bucket = new TokenBucket(100, 1, 0);
    for (let t = 0; t < 10_000; t += 10) expect(bucket.take(t)).toBe(true);
  });

  it('never holds more than its burst after a long idle period', () => {
    const bucket = new TokenBucket(1000, 3, 0);
    expect(bucket.available(60_000)).toBe(3);
  });

  it('reconfigure caps what it holds at the new burst', () => {
    const bucket = new TokenBucket(100, 100, 0);
    bucket.reconfigure(1, 2, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([true, true, false]);
  });
});
