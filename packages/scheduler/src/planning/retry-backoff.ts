// Retry backoff: exponential with full jitter, deterministic per item and attempt so every
// leader computes the same delay. Pure.
import type { PlanItem } from './plan-item.js';

export interface RetryOptions {
  /** First backoff (full jitter up to this). */
  baseMs: number;
  /** Ceiling of the backoff; it is also at most half the refresh interval. */
  maxMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { baseMs: 5_000, maxMs: 3_600_000 };

/** Deterministic full jitter in [0, 1): the same item and attempt give the same delay on every leader. */
export function jitterFraction(uid: string, attempt: number, seed = 0): number {
  return jitterAfter(jitterPrefix(uid, seed), attempt);
}

/**
 * FNV-1a over `${uid}#` and the seed: the state jitterAfter goes on from. A placement that breaks
 * ties between hundreds of candidate seconds of one item hashes the uid once, not once a second
 * (the whole-string hash was a fifth of a plan shard's CPU at a budget move, lab 100,000 run).
 */
export function jitterPrefix(uid: string, seed = 0): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < uid.length; i++) {
    h ^= uid.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= 0x23; // '#'
  return Math.imul(h, 0x01000193);
}

/** jitterFraction from jitterPrefix's state: FNV-1a goes on over the decimal digits of `n` (an integer), then one round of xorshift mixing. */
export function jitterAfter(prefix: number, n: number): number {
  let h = prefix;
  let text: string | undefined;
  if (Number.isInteger(n) && n >= 0 && n < 1e15) {
    // The digits of n, most significant first, without building its string.
    let div = 1;
    while (div * 10 <= n) div *= 10;
    for (; div >= 1; div /= 10) {
      h ^= 0x30 + (Math.floor(n / div) % 10);
      h = Math.imul(h, 0x01000193);
    }
  } else {
    text = String(n);
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 0) / 0x1_0000_0000;
}

/**
 * Exponential backoff with full jitter for the n-th failure (n ≥ 1). The ceiling is at most half
 * the refresh interval, so once the ramp is over a failing item costs about four calls per
 * interval (mean gap = ceiling / 2), and at most one per retryMax/2 for long intervals.
 */
export function retryDelayMs(item: Pick<PlanItem, 'uid' | 'refresh'>, attempt: number, retry: RetryOptions = DEFAULT_RETRY, seed = 0): number {
  const n = Math.max(1, attempt);
  const ceiling = item.refresh.policy === 'periodic' ? Math.min(retry.maxMs, Math.max(retry.baseMs, item.refresh.intervalMs / 2)) : retry.maxMs;
  const exp = Math.min(ceiling, retry.baseMs * 2 ** Math.min(n - 1, 40));
  return Math.round(jitterFraction(item.uid, n, seed) * exp);
}
