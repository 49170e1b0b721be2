// Polling with a deadline that also watches the servers it waits for: when one of them dies
// the wait fails at once with that server's log tail instead of running into the timeout.
import { LabError } from './lab-error.js';
import { logTail, type ManagedProcess } from './process-group.js';

export interface WaitOptions {
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  /** Servers whose exit means the wait can never succeed. */
  watch?: ManagedProcess[];
}

/** Calls `probe` until it returns a value other than undefined. */
export async function waitUntil<T>(probe: () => Promise<T | undefined>, opts: WaitOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    for (const proc of opts.watch ?? []) {
      if (proc.hasExited()) {
        throw new LabError(
          'ProcessExited',
          `${proc.name} exited (${await proc.exited}) while waiting for ${opts.what}; log ${proc.logPath}:\n${logTail(proc.logPath)}`,
        );
      }
    }
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      throw new LabError('ReadinessTimeout', `timed out after ${opts.timeoutMs} ms waiting for ${opts.what}${detail}`, {
        cause: lastError,
      });
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}
