// The lifetime loops' one wait: `ms`, or less when `signal` aborts (resolves, never rejects, so a
// loop checks its signal after it and ends in order). Lease campaigns, the shard campaign and the
// Redis wipe check wait with it.
export function waitOrAbort(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
