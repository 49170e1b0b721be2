// The suite's one wait: poll a condition until it holds or the deadline passes, then fail with
// what was awaited and what was last seen (a count, a state, the last error), never just "timed
// out". Tests wait on conditions with it instead of sleeping or writing their own loop.

/**
 * Calls `condition` until it returns a value other than undefined and returns that value. On
 * timeout throws with `lastSeen()` (evaluated then, so it can report the last observation) and
 * the last error `condition` threw.
 */
export async function waitUntil<T>(
  condition: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  lastSeen: () => string,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value !== undefined) return value;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const error = lastError === undefined ? '' : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      throw new Error(`timed out after ${timeoutMs} ms: ${lastSeen()}${error}`, { cause: lastError });
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
