// Which calls are urgent: the worker runs a new or changed spec's sync inside withUrgentCalls,
// and the call path tells the rate limiter, which lets a denied urgent call skip the line of
// deferred catch-up and refresh calls (limiter-math.ts admit). AsyncLocalStorage carries the
// flag through the provider code (and into a batch or coalesced call the sync starts).
import { AsyncLocalStorage } from 'node:async_hooks';

const urgentCalls = new AsyncLocalStorage<boolean>();

/** Runs one sync; its provider calls are urgent when `urgent` is true. */
export function withUrgentCalls<T>(urgent: boolean, run: () => Promise<T>): Promise<T> {
  return urgentCalls.run(urgent, run);
}

/** True inside an urgent sync. */
export function callsAreUrgent(): boolean {
  return urgentCalls.getStore() === true;
}
