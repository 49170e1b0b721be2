// The one wait of the lab and of every test: poll a condition until it holds or the deadline
// passes, then fail with what was awaited and what was last seen (a count, a state, the last
// error), never just "timed out"; and when a watched server dies, fail at once with its log tail
// instead of running into the timeout. Tests wait on conditions with it instead of sleeping or
// writing their own loop (test/support re-exports it).
import { LabError } from './lab-error.js';
import { logTail, type ManagedProcess } from './process-group.js';

export interface WaitOptions {
  /** What is awaited, for the message. */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  /** What was last seen, evaluated at the timeout (a count, a state), for the message. */
  lastSeen?: () => string;
  /** Servers whose exit means the wait can never succeed. */
  watch?: ManagedProcess[];
}

/**
 * Calls `condition` until it returns a value other than undefined and returns that value. On
 * timeout throws a LabError (ReadinessTimeout) naming what was awaited, `lastSeen()` and the
 * last error `condition` threw. Also `waitUntil(condition, timeoutMs, lastSeen, intervalMs?)`,
 * the tests' short form, where `lastSeen()` says both.
 */
export function waitUntil<T>(condition: () => Promise<T | undefined> | T | undefined, opts: WaitOptions): Promise<T>;
export function waitUntil<T>(condition: () => Promise<T | undefined> | T | undefined, timeoutMs: number, lastSeen: () => string, intervalMs?: number): Promise<T>;
export async function waitUntil<T>(
  condition: () => Promise<T | undefined> | T | undefined,
  optsOrTimeoutMs: WaitOptions | number,
  lastSeen?: () => string,
  intervalMs?: number,
): Promise<T> {
  const opts: WaitOptions = typeof optsOrTimeoutMs === 'number' ? { what: '', timeoutMs: optsOrTimeoutMs, lastSeen, intervalMs } : optsOrTimeoutMs;
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
      const value = await condition();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const awaited = opts.what === '' ? '' : ` waiting for ${opts.what}`;
      const seen = opts.lastSeen ? `${opts.what === '' ? '' : '; last seen'}: ${opts.lastSeen()}` : '';
      const error = lastError === undefined ? '' : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      throw new LabError('ReadinessTimeout', `timed out after ${opts.timeoutMs} ms${awaited}${seen}${error}`, { cause: lastError });
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}
