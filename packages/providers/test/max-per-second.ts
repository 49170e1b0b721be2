// The busiest one-second window of call times: what the store's quota sees. Shared by the limiter's
// unit tests (pure math) and the integration tests (calls against real Redis).

/** Most calls in any window [t, t + 1000 ms) of the call times. */
export function maxPerSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while ((sorted[hi] as number) - (sorted[lo] as number) >= 1000) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}
