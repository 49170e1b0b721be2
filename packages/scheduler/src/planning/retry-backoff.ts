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
  // FNV-1a over the uid, the attempt and the seed, then one round of xorshift mixing.
  let h = 0x811c9dc5 ^ seed;
  const text = `${uid}#${attempt}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
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
